"""The foundation of the SDK from Python: login, C2C text and custom messages through
listeners, errors as exceptions with their V2TIM code, kicks."""

import asyncio
import queue

import pytest

import oxim


class Inbox(oxim.V2TIMSimpleMsgListener):
    """Only the callbacks it overrides; the others default to doing nothing."""

    def __init__(self):
        self.texts = queue.Queue()
        self.customs = queue.Queue()

    def on_recv_c2c_text_message(self, msg_id, sender, text):
        self.texts.put((sender.user_id, text))

    def on_recv_c2c_custom_message(self, msg_id, sender, custom_data):
        self.customs.put((sender.user_id, custom_data))


class Connection(oxim.V2TIMSDKListener):
    def __init__(self):
        self.events = queue.Queue()

    def on_connect_success(self):
        self.events.put("connected")

    def on_kicked_offline(self):
        self.events.put("kicked")


def wait_for(q, wanted, timeout=15):
    while True:
        if q.get(timeout=timeout) == wanted:
            return


def new_sdk(server, device, listener=None, platform="linux"):
    sdk = oxim.V2TIMManager()
    assert sdk.init_sdk(server.sdk_app_id, server.config(device, platform), listener)
    return sdk


def test_login_send_and_receive_text_and_custom(server):
    sdk = oxim.V2TIMManager.get_instance()
    connection = Connection()
    sdk.init_sdk(server.sdk_app_id, server.config("alice"), connection)
    wait_for(connection.events, "connected")
    asyncio.run(sdk.login("alice", server.user_sig("alice")))
    assert sdk.get_login_user() == "alice"
    assert sdk.get_login_status() == oxim.V2TIMLoginStatus.V2TIM_STATUS_LOGINED
    assert oxim.V2TIMLoginStatus.V2TIM_STATUS_LOGINED.value == 1

    bob = new_sdk(server, "bob")
    asyncio.run(bob.login("bob", server.user_sig("bob")))
    inbox = Inbox()
    bob.add_simple_msg_listener(inbox)
    alice_inbox = Inbox()
    sdk.add_simple_msg_listener(alice_inbox)

    sent = asyncio.run(sdk.send_c2c_text_message("hello from python", "bob"))
    assert sent.status == oxim.V2TIMMessageStatus.V2TIM_MSG_STATUS_SEND_SUCC
    assert sent.elem_type == oxim.V2TIMElemType.V2TIM_ELEM_TYPE_TEXT
    assert sent.text_elem.text == "hello from python"
    assert (sent.user_id, sent.is_self, sent.seq) == ("bob", True, 1)
    assert inbox.texts.get(timeout=15) == ("alice", "hello from python")

    asyncio.run(bob.send_c2c_custom_message(b"\x00\x01\xff", "alice"))
    assert alice_inbox.customs.get(timeout=15) == ("bob", b"\x00\x01\xff")

    bob.remove_simple_msg_listener(inbox)
    asyncio.run(sdk.send_c2c_text_message("not heard", "bob"))
    with pytest.raises(queue.Empty):
        inbox.texts.get(timeout=1)
    asyncio.run(sdk.logout())
    bob.un_init_sdk()


def test_errors_are_exceptions_with_their_code(server):
    sdk = new_sdk(server, "errors")
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(sdk.send_c2c_text_message("hi", "bob"))
    assert e.value.code == 6014
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(sdk.login("carol", "forged"))
    assert e.value.code == 70003
    asyncio.run(sdk.login("carol", server.user_sig("carol")))
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(sdk.send_c2c_text_message("", "bob"))
    assert e.value.code == 6017
    sdk.un_init_sdk()


def test_second_login_on_the_same_platform_kicks_the_first(server):
    first_events = Connection()
    first = new_sdk(server, "dave-1", first_events, platform="android")
    asyncio.run(first.login("dave", server.user_sig("dave")))
    second = new_sdk(server, "dave-2", platform="android")
    asyncio.run(second.login("dave", server.user_sig("dave")))
    wait_for(first_events.events, "kicked")
    assert first.get_login_status() == oxim.V2TIMLoginStatus.V2TIM_STATUS_LOGOUT
    assert second.get_login_user() == "dave"
    first.un_init_sdk()
    second.un_init_sdk()
