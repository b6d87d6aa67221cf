import Foundation
import OximSampleLogic

/// A LiveState from the logic, as SwiftUI observes it: `@Published` on the main actor.
@MainActor
public final class Observed<Value: Sendable>: ObservableObject {
    @Published public private(set) var value: Value
    private var following: Task<Void, Never>?

    public init(_ live: LiveState<Value>) {
        value = live.value
        following = Task { [weak self] in
            for await value in live.values() {
                self?.value = value
            }
        }
    }

    deinit {
        following?.cancel()
    }
}
