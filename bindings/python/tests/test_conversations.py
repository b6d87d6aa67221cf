"""Conversations from Python: the list, the unread total and the listener."""

import asyncio
import queue

import pytest

import oxim


class ConversationEvents(oxim.V2TIMConversationListener):
    def __init__(self):
        self.events = queue.Queue()

    def on_sync_server_finish(self):
        self.events.put(("finish", None))

    def on_new_conversation(self, conversation_list):
        self.events.put(("new", [(c.conversation_id, c.unread_count) for c in conversation_list]))

    def on_conversation_changed(self, conversation_list):
        self.events.put(("changed", [(c.conversation_id, c.unread_count) for c in conversation_list]))

    def on_total_unread_message_count_changed(self, total_unread_count):
        self.events.put(("total", total_unread_count))

    def next(self, kind):
        while True:
            event = self.events.get(timeout=15)
            if event[0] == kind:
                return event[1]


def login(server, user, listener=None):
    def listen(sdk):
        if listener is not None:
            sdk.get_conversation_manager().add_conversation_listener(listener)
    return server.login(user, before_login=listen)


def test_list_unread_total_and_listener(server):
    events = ConversationEvents()
    reader = login(server, "pc-reader", events)
    assert events.next("finish") is None
    writers = [login(server, f"pc-w{i}") for i in range(3)]
    for i, w in enumerate(writers):
        for _ in range(i + 1):
            asyncio.run(w.send_c2c_text_message(f"hello from {i}", "pc-reader"))
    cm = reader.get_conversation_manager()
    total = 0
    while total != 6:
        total = events.next("total")
    assert asyncio.run(cm.get_total_unread_message_count()) == 6

    page = asyncio.run(cm.get_conversation_list(0, 2))
    assert [c.conversation_id for c in page.conversation_list] == ["c2c_pc-w2", "c2c_pc-w1"]
    assert not page.is_finished
    rest = asyncio.run(cm.get_conversation_list(page.next_seq, 2))
    assert [c.conversation_id for c in rest.conversation_list] == ["c2c_pc-w0"] and rest.is_finished
    conv = asyncio.run(cm.get_conversation("c2c_pc-w2"))
    assert (conv.unread_count, conv.type, conv.user_id) == (3, 1, "pc-w2")
    assert conv.last_message.text_elem.text == "hello from 2"

    asyncio.run(reader.get_message_manager().mark_c2c_message_as_read("pc-w2"))
    assert events.next("changed") == [("c2c_pc-w2", 0)]
    assert events.next("total") == 3
    asyncio.run(cm.pin_conversation("c2c_pc-w0", True))
    first = asyncio.run(cm.get_conversation_list(0, 1)).conversation_list[0]
    assert (first.conversation_id, first.is_pinned) == ("c2c_pc-w0", True)

    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(cm.get_conversation("c2c_nobody"))
    assert e.value.code == 6004
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(cm.get_conversation_list(0, 0))
    assert e.value.code == 6017
    cm.remove_conversation_listener(events)
    for sdk in [reader, *writers]:
        sdk.un_init_sdk()
