

# ---- Hand-written part of the Python bindings (appended by scripts/bindings.sh) ----------------
# Listener callbacks default to doing nothing, so a listener implements only what it needs, and
# listeners are added and removed by object (UniFFI hands Rust a new handle each time an object
# crosses the boundary; the object -> handle map is kept here).
import threading as _oxim_threading

_oxim_listener_lock = _oxim_threading.Lock()
_oxim_listener_handles = {}  # id(listener) -> (listener, handle); holds the listener while registered


def _oxim_noop(self, *args, **kwargs):
    return None


for _oxim_cls in (V2TIMSDKListener, V2TIMSimpleMsgListener, V2TIMAdvancedMsgListener, V2TIMGroupListener,
                 V2TIMConversationListener,
                 V2TIMSendCallback, V2TIMDownloadCallback, V2TIMSignalingListener):
    for _oxim_name, _oxim_value in list(vars(_oxim_cls).items()):
        if _oxim_name.startswith("on_") and callable(_oxim_value):
            setattr(_oxim_cls, _oxim_name, _oxim_noop)


def _oxim_each_new_message(self, msg_list):
    # A burst of new messages arrives in one crossing; by default each goes to on_recv_new_message.
    for msg in msg_list:
        self.on_recv_new_message(msg)


V2TIMAdvancedMsgListener.on_recv_new_messages = _oxim_each_new_message


def _oxim_add_listener(register):
    def add(self, listener):
        with _oxim_listener_lock:
            if id(listener) not in _oxim_listener_handles:
                _oxim_listener_handles[id(listener)] = (listener, register(self, listener))
    return add


def _oxim_remove_listener(self, listener):
    with _oxim_listener_lock:
        entry = _oxim_listener_handles.pop(id(listener), None)
    if entry is not None:
        self.remove_listener_handle(entry[1])


V2TIMManager.add_simple_msg_listener = _oxim_add_listener(V2TIMManager.add_simple_msg_listener_handle)
V2TIMManager.remove_simple_msg_listener = _oxim_remove_listener
V2TIMManager.get_instance = staticmethod(get_default_manager)
V2TIMMessageManager.add_advanced_msg_listener = _oxim_add_listener(V2TIMMessageManager.add_advanced_msg_listener_handle)
V2TIMMessageManager.remove_advanced_msg_listener = _oxim_remove_listener
V2TIMManager.add_group_listener = _oxim_add_listener(
    lambda self, listener: self.get_group_manager().add_group_listener_handle(listener))
V2TIMManager.remove_group_listener = _oxim_remove_listener
V2TIMSignalingManager.add_signaling_listener = _oxim_add_listener(V2TIMSignalingManager.add_signaling_listener_handle)
V2TIMSignalingManager.remove_signaling_listener = _oxim_remove_listener
V2TIMConversationManager.add_conversation_listener = _oxim_add_listener(
    V2TIMConversationManager.add_conversation_listener_handle)
V2TIMConversationManager.set_conversation_listener = _oxim_add_listener(
    V2TIMConversationManager.set_conversation_listener_handle)
V2TIMConversationManager.remove_conversation_listener = _oxim_remove_listener

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
