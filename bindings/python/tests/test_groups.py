"""Groups from Python: create/join/quit, the group listener, and a mic-seat flow on group
attributes with a version conflict."""

import asyncio
import queue

import pytest

import oxim


class GroupEvents(oxim.V2TIMGroupListener):
    def __init__(self):
        self.events = queue.Queue()

    def on_member_enter(self, group_id, member_list):
        self.events.put(("enter", group_id, [m.user_id for m in member_list]))

    def on_member_leave(self, group_id, member):
        self.events.put(("leave", group_id, member.user_id))

    def on_group_attribute_changed(self, group_id, group_attribute_map):
        self.events.put(("attrs", group_id, dict(group_attribute_map)))

    def on_group_dismissed(self, group_id, op_user):
        self.events.put(("dismissed", group_id, op_user.user_id))

    def next(self, kind):
        while True:
            event = self.events.get(timeout=15)
            if event[0] == kind:
                return event


def login(server, user):
    return server.login(user)


def test_create_join_quit_and_listener(server):
    host, guest = login(server, "pg-host"), login(server, "pg-guest")
    events = GroupEvents()
    host.add_group_listener(events)

    group = asyncio.run(host.create_group("Meeting", "py-meeting", "Python meeting"))
    assert group == "py-meeting"
    asyncio.run(guest.join_group(group, "hi"))
    assert events.next("enter") == ("enter", group, ["pg-guest"])
    gm = host.get_group_manager()
    info = asyncio.run(gm.get_groups_info([group]))[0]
    assert (info.result_code, info.group_info.group_name, info.group_info.member_count) == (0, "Python meeting", 2)
    assert info.group_info.role == oxim.V2TIMGroupMemberRole.V2TIM_GROUP_MEMBER_ROLE_SUPER.value

    asyncio.run(guest.send_group_text_message("hello group", group, oxim.V2TIMMessagePriority.V2TIM_PRIORITY_DEFAULT))
    history = asyncio.run(host.get_message_manager().get_group_history_message_list(group, 10, None))
    assert history[0].text_elem.text == "hello group"

    asyncio.run(guest.quit_group(group))
    assert events.next("leave") == ("leave", group, "pg-guest")
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(host.quit_group(group))
    assert e.value.code == 10009  # the owner of a Meeting group cannot quit
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(guest.join_group("no-such-group", ""))
    assert e.value.code == 10010
    host.remove_group_listener(events)
    host.un_init_sdk()
    guest.un_init_sdk()


def test_mic_seats_on_group_attributes(server):
    host, a, b = login(server, "pm-host"), login(server, "pm-a"), login(server, "pm-b")
    room = asyncio.run(host.create_group("AVChatRoom", "py-live", "Live"))
    for sdk in (a, b):
        asyncio.run(sdk.join_group(room, ""))
    watcher = GroupEvents()
    host.add_group_listener(watcher)
    gm_host, gm_a, gm_b = host.get_group_manager(), a.get_group_manager(), b.get_group_manager()

    asyncio.run(gm_host.init_group_attributes(room, {"seat1": "", "seat2": ""}))
    assert watcher.next("attrs")[2] == {"seat1": "", "seat2": ""}
    # Both read the same state, both try to take seat 1: the second write is stale.
    assert asyncio.run(gm_a.get_group_attributes(room, None)) == {"seat1": "", "seat2": ""}
    assert asyncio.run(gm_b.get_group_attributes(room, ["seat1"])) == {"seat1": ""}
    asyncio.run(gm_a.set_group_attributes(room, {"seat1": "pm-a"}))
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(gm_b.set_group_attributes(room, {"seat1": "pm-b"}))
    assert e.value.code == 10056
    assert watcher.next("attrs")[2] == {"seat1": "pm-a", "seat2": ""}
    # b sees the winner (the change was pushed), then takes the free seat.
    assert asyncio.run(gm_b.get_group_attributes(room, None))["seat1"] == "pm-a"
    asyncio.run(gm_b.set_group_attributes(room, {"seat2": "pm-b"}))
    assert watcher.next("attrs")[2] == {"seat1": "pm-a", "seat2": "pm-b"}
    asyncio.run(gm_a.delete_group_attributes(room, ["seat1"]))
    assert watcher.next("attrs")[2] == {"seat2": "pm-b"}
    for sdk in (host, a, b):
        sdk.un_init_sdk()
