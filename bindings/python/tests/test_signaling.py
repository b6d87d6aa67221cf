"""Signaling from Python: a 1:1 call (invite with a room id, accept) and a timeout."""

import asyncio
import queue

import pytest

import oxim


class Calls(oxim.V2TIMSignalingListener):
    def __init__(self):
        self.seen = queue.Queue()

    def on_receive_new_invitation(self, invite_id, inviter, group_id, invitee_list, data):
        self.seen.put(("invited", invite_id, inviter, group_id, list(invitee_list), data))

    def on_invitee_accepted(self, invite_id, invitee, data):
        self.seen.put(("accepted", invite_id, invitee, data))

    def on_invitation_timeout(self, invite_id, invitee_list):
        self.seen.put(("timeout", invite_id, list(invitee_list)))


def login(server, user, device):
    return server.login(user, device)


def test_one_to_one_call_then_a_timeout(server):
    alice = login(server, "sig-alice", "sig-alice")
    bob = login(server, "sig-bob", "sig-bob")
    sm, bob_sm = alice.get_signaling_manager(), bob.get_signaling_manager()
    alice_calls, bob_calls = Calls(), Calls()
    sm.add_signaling_listener(alice_calls)
    bob_sm.add_signaling_listener(bob_calls)

    push = oxim.V2TIMOfflinePushInfo(desc="Alice is calling")
    call = asyncio.run(sm.invite("sig-bob", '{"roomID":42}', False, push, 30))
    assert bob_calls.seen.get(timeout=15) == ("invited", call, "sig-alice", "", ["sig-bob"], '{"roomID":42}')
    asyncio.run(bob_sm.accept(call, "picked up"))
    assert alice_calls.seen.get(timeout=15) == ("accepted", call, "sig-bob", "picked up")

    history = asyncio.run(bob.get_message_manager().get_c2c_history_message_list("sig-alice", 10, None))
    infos = [bob_sm.get_signaling_info(m) for m in history]
    assert [(i.invite_id, i.action_type) for i in infos] == [
        (call, oxim.V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_ACCEPT_INVITE),
        (call, oxim.V2TIMSignalingActionType.SIGNALING_ACTION_TYPE_INVITE)]
    assert infos[1].data == '{"roomID":42}'
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(bob_sm.accept(call, ""))
    assert e.value.code == 8010

    unanswered = asyncio.run(sm.invite("sig-bob", "", False, None, 1))
    assert bob_calls.seen.get(timeout=15)[:2] == ("invited", unanswered)
    assert alice_calls.seen.get(timeout=15) == ("timeout", unanswered, ["sig-bob"])
    assert bob_calls.seen.get(timeout=15) == ("timeout", unanswered, ["sig-bob"])
    assert alice_calls.seen.empty() and bob_calls.seen.empty()
    sm.remove_signaling_listener(alice_calls)
    bob_sm.remove_signaling_listener(bob_calls)
    alice.un_init_sdk()
    bob.un_init_sdk()
