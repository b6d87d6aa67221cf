"""The message manager from Python: text, custom, image with progress, history and revoke."""

import asyncio
import os
import queue
import struct
import time
import zlib

import pytest

import oxim


def png(width, height):
    """A grey PNG of the given size (no imaging library needed)."""
    row = b"\x00" + b"\x80\x80\x80" * width
    raw = zlib.compress(row * height)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class Events(oxim.V2TIMAdvancedMsgListener):
    def __init__(self):
        self.messages = queue.Queue()
        self.revoked = queue.Queue()

    def on_recv_new_message(self, msg):
        self.messages.put(msg)

    def on_recv_message_revoked(self, msg_id):
        self.revoked.put(msg_id)


class Progress(oxim.V2TIMSendCallback):
    def __init__(self):
        self.steps = []

    def on_progress(self, progress):
        self.steps.append(progress)


def login(server, user, device):
    return server.login(user, device)


def send(mm, msg, to, progress=None):
    return asyncio.run(mm.send_message(msg, to, None, oxim.V2TIMMessagePriority.V2TIM_PRIORITY_DEFAULT,
                                       False, None, progress))


def test_text_custom_image_history_and_revoke(server, tmp_path):
    alice = login(server, "py-alice", "py-alice")
    bob = login(server, "py-bob", "py-bob")
    mm, bob_mm = alice.get_message_manager(), bob.get_message_manager()
    events = Events()
    bob_mm.add_advanced_msg_listener(events)

    text = send(mm, mm.create_text_message("hello from python"), "py-bob")
    got = events.messages.get(timeout=15)
    assert got.text_elem.text == "hello from python"
    assert got.elem_type == oxim.V2TIMElemType.V2TIM_ELEM_TYPE_TEXT
    assert (got.sender, got.user_id, got.is_self, got.seq) == ("py-alice", "py-alice", False, 1)

    send(mm, mm.create_custom_message(b"\x01\x02", "desc", "ext"), "py-bob")
    got = events.messages.get(timeout=15)
    assert (got.custom_elem.data, got.custom_elem.desc, got.custom_elem.extension) == (b"\x01\x02", "desc", "ext")

    path = tmp_path / "pic.png"
    path.write_bytes(png(1000, 400))
    progress = Progress()
    send(mm, mm.create_image_message(str(path)), "py-bob", progress)
    assert progress.steps[-1] == 100 and progress.steps == sorted(progress.steps)
    got = events.messages.get(timeout=15)
    images = {i.type: i for i in got.image_elem.image_list}
    assert (images[oxim.V2TIMImageType.V2TIM_IMAGE_TYPE_ORIGIN].width,
            images[oxim.V2TIMImageType.V2TIM_IMAGE_TYPE_ORIGIN].height) == (1000, 400)
    # 400 px is between 198 and 720: the large variant is the original size, the thumbnail 198.
    assert images[oxim.V2TIMImageType.V2TIM_IMAGE_TYPE_LARGE].height == 400
    assert images[oxim.V2TIMImageType.V2TIM_IMAGE_TYPE_THUMB].height == 198
    out = tmp_path / "down.png"
    asyncio.run(bob_mm.download_image(images[oxim.V2TIMImageType.V2TIM_IMAGE_TYPE_ORIGIN], str(out), None))
    assert out.read_bytes() == path.read_bytes()

    history = asyncio.run(bob_mm.get_c2c_history_message_list("py-alice", 10, None))
    assert [m.elem_type for m in history] == [oxim.V2TIMElemType.V2TIM_ELEM_TYPE_IMAGE,
                                              oxim.V2TIMElemType.V2TIM_ELEM_TYPE_CUSTOM,
                                              oxim.V2TIMElemType.V2TIM_ELEM_TYPE_TEXT]
    older = asyncio.run(bob_mm.get_c2c_history_message_list("py-alice", 10, history[1]))
    assert [m.msg_id for m in older] == [text.msg_id]

    asyncio.run(mm.revoke_message(text))
    assert events.revoked.get(timeout=15) == text.msg_id
    stored = asyncio.run(bob_mm.find_messages([text.msg_id]))
    assert stored[0].status == oxim.V2TIMMessageStatus.V2TIM_MSG_STATUS_LOCAL_REVOKED

    with pytest.raises(oxim.V2TIMError.Failure) as e:
        mm.create_image_message(str(tmp_path / "missing.png"))
    assert e.value.code == 7004
    bob_mm.remove_advanced_msg_listener(events)
    alice.un_init_sdk()
    bob.un_init_sdk()


class Bursts(oxim.V2TIMAdvancedMsgListener):
    """Takes bursts whole: one call per burst crossing from the SDK."""

    def __init__(self):
        self.bursts = []

    def on_recv_new_message(self, msg):
        self.bursts.append([msg.text_elem.text])

    def on_recv_new_messages(self, msg_list):
        self.bursts.append([m.text_elem.text for m in msg_list])


class Synced(oxim.V2TIMConversationListener):
    def __init__(self):
        self.finished = queue.Queue()

    def on_sync_server_finish(self):
        self.finished.put(True)


def test_messages_missed_while_offline_arrive_as_a_burst(server):
    alice = login(server, "py-burst-a", "py-burst-a")
    synced = Synced()
    bob = server.login("py-burst-b",
                       before_login=lambda sdk: sdk.get_conversation_manager().add_conversation_listener(synced))
    # Once a device has synced, it catches up on everything it missed (not only the latest 20).
    synced.finished.get(timeout=15)
    asyncio.run(bob.logout())
    mm = alice.get_message_manager()
    texts = [f"missed {i}" for i in range(40)]
    for text in texts:
        send(mm, mm.create_text_message(text), "py-burst-b")

    each, whole = Events(), Bursts()
    bob_mm = bob.get_message_manager()
    bob_mm.add_advanced_msg_listener(each)
    bob_mm.add_advanced_msg_listener(whole)
    asyncio.run(bob.login("py-burst-b", server.user_sig("py-burst-b")))

    # A listener overriding only on_recv_new_message still gets every message, once, in order.
    got = [each.messages.get(timeout=15).text_elem.text for _ in texts]
    assert got == texts
    # The sync stored them in one go, so they crossed the FFI in far fewer calls than messages.
    # (`whole` is called after `each` for every burst: wait for it to have heard the last.)
    deadline = time.monotonic() + 15
    while sum(len(b) for b in whole.bursts) < len(texts) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [t for burst in whole.bursts for t in burst] == texts
    assert len(whole.bursts) < len(texts) / 2, whole.bursts
    with pytest.raises(queue.Empty):
        each.messages.get(timeout=0.5)
