// Hand-written part of the Android/JVM layer: add/remove by object.
package io.oxim.imsdk.v2

/**
 * The listeners one SDK instance has registered, by kind and object identity, with the handle
 * the SDK gave each. UniFFI hands the SDK a new handle every time an object crosses the
 * boundary, so "the same listener" is known here only. One registry per instance: the same
 * object may be added to two instances (or, where a type allows it, as two kinds), and removing
 * it from one leaves the others.
 */
internal class ListenerRegistry {
    enum class Kind { SDK, SIMPLE, ADVANCED, GROUP, CONVERSATION, SIGNALING, FRIENDSHIP }

    private class Key(val kind: Kind, val listener: Any) {
        override fun equals(other: Any?) = other is Key && other.kind == kind && other.listener === listener
        override fun hashCode() = kind.hashCode() * 31 + System.identityHashCode(listener)
    }

    private val handles = HashMap<Key, Long>()

    /** Registers [listener] as [kind] unless it already is; false if it was. */
    @Synchronized
    fun add(kind: Kind, listener: Any, register: () -> Long): Boolean {
        val key = Key(kind, listener)
        if (handles.containsKey(key)) return false
        handles[key] = register()
        return true
    }

    /** The handle of [listener] as [kind], forgotten; null if it is not registered. */
    @Synchronized
    fun remove(kind: Kind, listener: Any): Long? = handles.remove(Key(kind, listener))

    /** Forgets every listener of [kind] (the SDK replaced them) and registers [listener]. */
    @Synchronized
    fun replace(kind: Kind, listener: Any, register: () -> Long) {
        handles.keys.removeAll { it.kind == kind }
        handles[Key(kind, listener)] = register()
    }

    /** The handles of every listener of [kind], forgotten. */
    @Synchronized
    fun removeAll(kind: Kind): List<Long> {
        val keys = handles.keys.filter { it.kind == kind }
        return keys.mapNotNull { handles.remove(it) }
    }
}
