

# ---- Hand-written part of the Python bindings (appended by scripts/bindings.sh, after the part
# generated from the UDL: oxim_generated.py, the listeners' empty default callbacks) -------------
# Listeners are added and removed by object. UniFFI hands Rust a new handle each time an object
# crosses the boundary, so the object -> handle map is kept here, keyed by (SDK instance, listener
# kind, object): the same object may be added to two instances or as two kinds, and removing it
# from one leaves the others. Each manager names its instance with `instance_id()` (every call that
# returns a manager makes a new Python object).
import threading as _oxim_threading

_oxim_listener_lock = _oxim_threading.Lock()
# (instance id, kind, id(listener)) -> (listener, handle); holds the listener while registered.
_oxim_listener_handles = {}


def _oxim_add_listener(kind, register):
    def add(self, listener):
        key = (self.instance_id(), kind, id(listener))
        with _oxim_listener_lock:
            if key not in _oxim_listener_handles:
                _oxim_listener_handles[key] = (listener, register(self, listener))
    return add


def _oxim_remove_listener(kind):
    def remove(self, listener):
        with _oxim_listener_lock:
            entry = _oxim_listener_handles.pop((self.instance_id(), kind, id(listener)), None)
        if entry is not None:
            self.remove_listener_handle(entry[1])
    return remove


def _oxim_set_listener(kind, register):
    # The SDK replaces every listener of this kind of this instance: forget them here too.
    def set_listener(self, listener):
        instance = self.instance_id()
        with _oxim_listener_lock:
            for key in [k for k in _oxim_listener_handles if k[0] == instance and k[1] == kind]:
                del _oxim_listener_handles[key]
            handle = register(self, listener)
            _oxim_listener_handles[(instance, kind, id(listener))] = (listener, handle)
    return set_listener


V2TIMManager.get_instance = staticmethod(get_default_manager)
V2TIMManager.add_imsdk_listener = _oxim_add_listener("sdk", V2TIMManager.add_sdk_listener_handle)
V2TIMManager.remove_imsdk_listener = _oxim_remove_listener("sdk")
V2TIMManager.add_simple_msg_listener = _oxim_add_listener("simple", V2TIMManager.add_simple_msg_listener_handle)
V2TIMManager.remove_simple_msg_listener = _oxim_remove_listener("simple")
V2TIMManager.add_group_listener = _oxim_add_listener(
    "group", lambda self, listener: self.get_group_manager().add_group_listener_handle(listener))
V2TIMManager.remove_group_listener = _oxim_remove_listener("group")
V2TIMMessageManager.add_advanced_msg_listener = _oxim_add_listener(
    "advanced", V2TIMMessageManager.add_advanced_msg_listener_handle)
V2TIMMessageManager.remove_advanced_msg_listener = _oxim_remove_listener("advanced")
V2TIMSignalingManager.add_signaling_listener = _oxim_add_listener(
    "signaling", V2TIMSignalingManager.add_signaling_listener_handle)
V2TIMSignalingManager.remove_signaling_listener = _oxim_remove_listener("signaling")
V2TIMConversationManager.add_conversation_listener = _oxim_add_listener(
    "conversation", V2TIMConversationManager.add_conversation_listener_handle)
V2TIMConversationManager.set_conversation_listener = _oxim_set_listener(
    "conversation", V2TIMConversationManager.set_conversation_listener_handle)
V2TIMConversationManager.remove_conversation_listener = _oxim_remove_listener("conversation")
V2TIMFriendshipManager.add_friend_listener = _oxim_add_listener(
    "friendship", V2TIMFriendshipManager.add_friend_listener_handle)
V2TIMFriendshipManager.set_friend_listener = _oxim_set_listener(
    "friendship", V2TIMFriendshipManager.set_friend_listener_handle)
V2TIMFriendshipManager.remove_friend_listener = _oxim_remove_listener("friendship")

# At interpreter exit, stop every SDK instance first: a listener called from an SDK thread while
# Python finalises would be terminated mid-call (and abort the process).
import atexit as _oxim_atexit
import weakref as _oxim_weakref

_oxim_instances = _oxim_weakref.WeakSet()
_oxim_init_sdk = V2TIMManager.init_sdk


def _oxim_tracked_init_sdk(self, *args, **kwargs):
    _oxim_instances.add(self)
    return _oxim_init_sdk(self, *args, **kwargs)


V2TIMManager.init_sdk = _oxim_tracked_init_sdk


@_oxim_atexit.register
def _oxim_shutdown_all():
    for sdk in list(_oxim_instances):
        try:
            sdk.un_init_sdk()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
