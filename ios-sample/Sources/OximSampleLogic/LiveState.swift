import Foundation

/// A value that screens show: read it now, or follow it as an `AsyncStream` (the Foundation-only
/// counterpart of Kotlin's StateFlow; OximSampleUI turns it into `@Published`). SDK listeners
/// update it from their own threads, so every access takes the lock.
public final class LiveState<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Value
    private var followers: [UUID: AsyncStream<Value>.Continuation] = [:]

    public init(_ value: Value) {
        current = value
    }

    public var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The current value, then every change (a slow follower sees the newest, not each one).
    public func values() -> AsyncStream<Value> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let id = UUID()
            lock.lock()
            followers[id] = continuation
            continuation.yield(current)
            lock.unlock()
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                self.lock.lock()
                self.followers[id] = nil
                self.lock.unlock()
            }
        }
    }

    /// Changes the value in place and tells the followers (in the order of the changes).
    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&current)
        for follower in followers.values {
            follower.yield(current)
        }
    }

    func set(_ value: Value) {
        update { $0 = value }
    }
}
