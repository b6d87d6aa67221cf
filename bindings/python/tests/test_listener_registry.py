"""Listener registration by object cannot leak across SDK instances or listener kinds: the
registry is keyed by (instance, kind, object); set_conversation_listener replaces."""

import asyncio
import queue

import pytest

import oxim


class Everything(oxim.V2TIMSimpleMsgListener, oxim.V2TIMGroupListener, oxim.V2TIMSDKListener):
    """One object that is two (three) listener kinds at once, recording what it hears."""

    def __init__(self):
        self.heard = queue.Queue()

    def on_recv_c2c_text_message(self, msg_id, sender, text):
        self.heard.put(f"text:{text}")

    def on_group_created(self, group_id):
        self.heard.put(f"created:{group_id}")


class Conversations(oxim.V2TIMConversationListener):
    def __init__(self):
        self.changed = queue.Queue()

    def on_conversation_changed(self, conversation_list):
        for c in conversation_list:
            text = c.last_message.text_elem.text if c.last_message and c.last_message.text_elem else ""
            self.changed.put(f"{c.conversation_id}:{text}")

    def on_new_conversation(self, conversation_list):
        self.on_conversation_changed(conversation_list)


def heard(listener, timeout=15):
    return listener.heard.get(timeout=timeout)


def nothing_more(q, wait=1.0):
    with pytest.raises(queue.Empty):
        q.get(timeout=wait)


def hears(q, wanted, timeout=15):
    """Waits for `wanted` (other events of the same change may come first)."""
    while True:
        if q.get(timeout=timeout) == wanted:
            return


def never_hears(q, unwanted, wait=1.0):
    try:
        while True:
            assert q.get(timeout=wait) != unwanted
    except queue.Empty:
        pass


def test_the_same_object_on_two_instances_and_removal_from_one(server):
    a = server.login("reg-a")
    b = server.login("reg-b")
    sender = server.login("reg-sender")
    listener = Everything()
    a.add_simple_msg_listener(listener)
    b.add_simple_msg_listener(listener)
    b.add_simple_msg_listener(listener)  # twice on one instance: registered once

    asyncio.run(sender.send_c2c_text_message("to a", "reg-a"))
    asyncio.run(sender.send_c2c_text_message("to b", "reg-b"))
    assert {heard(listener), heard(listener)} == {"text:to a", "text:to b"}
    nothing_more(listener.heard)

    # Removing it from a leaves b's registration alone.
    a.remove_simple_msg_listener(listener)
    asyncio.run(sender.send_c2c_text_message("to a again", "reg-a"))
    asyncio.run(sender.send_c2c_text_message("to b again", "reg-b"))
    assert heard(listener) == "text:to b again"
    nothing_more(listener.heard)
    for sdk in (a, b, sender):
        sdk.un_init_sdk()


def test_the_same_object_as_two_kinds(server):
    user = server.login("reg-two-kinds")
    sender = server.login("reg-two-kinds-sender")
    listener = Everything()
    user.add_simple_msg_listener(listener)
    user.add_group_listener(listener)

    asyncio.run(sender.send_c2c_text_message("hello", "reg-two-kinds"))
    assert heard(listener) == "text:hello"
    group = asyncio.run(user.create_group("Work", None, "two kinds"))
    assert heard(listener) == f"created:{group}"

    # Removing one kind keeps the other.
    user.remove_simple_msg_listener(listener)
    asyncio.run(sender.send_c2c_text_message("not heard", "reg-two-kinds"))
    group2 = asyncio.run(user.create_group("Work", None, "still heard"))
    assert heard(listener) == f"created:{group2}"
    nothing_more(listener.heard)
    for sdk in (user, sender):
        sdk.un_init_sdk()


def test_set_conversation_listener_replaces_and_the_default_instance_is_one_instance(server):
    user = server.login("reg-conv")
    sender = server.login("reg-conv-sender")
    first, second = Conversations(), Conversations()
    conversations = user.get_conversation_manager()
    conversations.add_conversation_listener(first)
    asyncio.run(sender.send_c2c_text_message("one", "reg-conv"))
    hears(first.changed, "c2c_reg-conv-sender:one")

    # set_conversation_listener replaces every conversation listener, the added one included;
    # removing the replaced one afterwards is harmless.
    user.get_conversation_manager().set_conversation_listener(second)
    user.get_conversation_manager().remove_conversation_listener(first)
    asyncio.run(sender.send_c2c_text_message("two", "reg-conv"))
    hears(second.changed, "c2c_reg-conv-sender:two")
    never_hears(first.changed, "c2c_reg-conv-sender:two")

    # Adding first again works (it was forgotten when replaced), and removing through another
    # manager object of the same instance removes it: managers name their instance.
    conversations.add_conversation_listener(first)
    assert user.get_conversation_manager().instance_id() == user.instance_id()
    assert oxim.V2TIMManager.get_instance().instance_id() == oxim.V2TIMManager.get_instance().instance_id()
    assert oxim.V2TIMManager.get_instance().instance_id() != user.instance_id()
    user.get_conversation_manager().remove_conversation_listener(first)
    asyncio.run(sender.send_c2c_text_message("three", "reg-conv"))
    hears(second.changed, "c2c_reg-conv-sender:three")
    never_hears(first.changed, "c2c_reg-conv-sender:three")
    for sdk in (user, sender):
        sdk.un_init_sdk()


def test_added_sdk_listeners_hear_connection_events_beside_init_sdks(server):
    sdk = oxim.V2TIMManager()

    class Connection(oxim.V2TIMSDKListener):
        def __init__(self):
            self.events = queue.Queue()

        def on_connect_success(self):
            self.events.put("connected")

    init_listener, added = Connection(), Connection()
    sdk.add_imsdk_listener(added)
    assert sdk.init_sdk(server.sdk_app_id, server.config("reg-sdk"), init_listener)
    assert init_listener.events.get(timeout=15) == "connected"
    assert added.events.get(timeout=15) == "connected"
    sdk.remove_imsdk_listener(added)
    sdk.un_init_sdk()
    assert sdk.init_sdk(server.sdk_app_id, server.config("reg-sdk"), init_listener)
    assert init_listener.events.get(timeout=15) == "connected"
    nothing_more(added.events)
    sdk.un_init_sdk()
