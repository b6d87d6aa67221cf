"""Adding a friend and the blacklist from Python."""

import asyncio
import queue

import oxim


class Friends(oxim.V2TIMFriendshipListener):
    def __init__(self):
        self.told = queue.Queue()

    def on_friend_application_list_added(self, application_list):
        for app in application_list:
            self.told.put(f"apps+:{app.user_id}/{app.type}")

    def on_friend_application_list_deleted(self, user_id_list):
        self.told.put("apps-:" + ",".join(user_id_list))

    def on_friend_list_added(self, users):
        self.told.put("added:" + ",".join(u.user_id for u in users))

    def on_friend_list_deleted(self, user_list):
        self.told.put("deleted:" + ",".join(user_list))

    def on_black_list_add(self, info_list):
        self.told.put("black+:" + ",".join(u.user_id for u in info_list))

    def next(self):
        return self.told.get(timeout=15)


def device(server, user, allow_type):
    sdk = oxim.V2TIMManager()
    sdk.init_sdk(server.sdk_app_id, server.config(user), None)
    asyncio.run(sdk.login(user, server.user_sig(user)))
    asyncio.run(sdk.set_self_info(oxim.V2TIMUserFullInfo(allow_type=allow_type)))
    return sdk


def test_adding_a_friend_with_confirmation_tells_both_sides(server):
    a = device(server, "pf-fa", oxim.V2TIMFriendAllowType.V2TIM_FRIEND_NEED_CONFIRM)
    b = device(server, "pf-fb", oxim.V2TIMFriendAllowType.V2TIM_FRIEND_NEED_CONFIRM)
    fa, fb = a.get_friendship_manager(), b.get_friendship_manager()
    on_a, on_b = Friends(), Friends()
    fa.add_friend_listener(on_a)
    fb.set_friend_listener(on_b)

    res = asyncio.run(fa.add_friend(oxim.V2TIMFriendAddApplication(user_id="pf-fb", add_wording="hello")))
    assert res.result_code == 30539, "pending inside a successful call"
    assert on_a.next() == "apps+:pf-fb/2"
    assert on_b.next() == "apps+:pf-fa/1"
    pending = asyncio.run(fb.get_friend_application_list())
    assert pending.unread_count == 1
    app = pending.friend_application_list[0]
    assert (app.user_id, app.add_wording) == ("pf-fa", "hello")

    asyncio.run(fb.accept_friend_application(app, 0))  # AGREE: one way
    assert on_a.next() == "added:pf-fb"
    assert on_b.next() == "apps-:pf-fa"
    checked = asyncio.run(fa.check_friend(["pf-fb"], 2))
    assert checked[0].result_type == 1  # IN_MY_FRIEND_LIST
    assert [f.user_id for f in asyncio.run(fa.get_friend_list())] == ["pf-fb"]
    assert asyncio.run(fb.get_friend_list()) == []
    for sdk in (a, b):
        sdk.un_init_sdk()


def test_blocking_ends_the_friendship_and_stops_requests(server):
    a = device(server, "pb-a", oxim.V2TIMFriendAllowType.V2TIM_FRIEND_ALLOW_ANY)
    b = device(server, "pb-b", oxim.V2TIMFriendAllowType.V2TIM_FRIEND_ALLOW_ANY)
    fa, fb = a.get_friendship_manager(), b.get_friendship_manager()
    on_a, on_b = Friends(), Friends()
    fa.add_friend_listener(on_a)
    fb.add_friend_listener(on_b)
    assert asyncio.run(fa.add_friend(oxim.V2TIMFriendAddApplication(user_id="pb-b"))).result_code == 0
    assert on_a.next() == "added:pb-b"
    assert on_b.next() == "added:pb-a"

    assert asyncio.run(fa.add_to_black_list(["pb-b"]))[0].result_code == 0
    assert on_a.next() == "black+:pb-b"
    assert on_a.next() == "deleted:pb-b"
    assert on_b.next() == "deleted:pb-a"
    assert [f.user_id for f in asyncio.run(fa.get_black_list())] == ["pb-b"]
    assert asyncio.run(fb.add_friend(oxim.V2TIMFriendAddApplication(user_id="pb-a"))).result_code == 30525
    assert asyncio.run(fa.add_friend(oxim.V2TIMFriendAddApplication(user_id="pb-b"))).result_code == 30515
    assert asyncio.run(b.send_c2c_text_message("hi", "pb-a")).seq == 0
    fa.remove_friend_listener(on_a)
    for sdk in (a, b):
        sdk.un_init_sdk()
