"""Profiles from Python: getUsersInfo, setSelfInfo and onSelfInfoUpdated."""

import asyncio
import queue

import pytest

import oxim


class SelfInfo(oxim.V2TIMSDKListener):
    def __init__(self):
        self.told = queue.Queue()

    def on_self_info_updated(self, info):
        self.told.put(info)


def device(server, user, name, platform="linux"):
    sdk = oxim.V2TIMManager()
    sdk.init_sdk(server.sdk_app_id, server.config(name, platform), None)
    asyncio.run(sdk.login(user, server.user_sig(user)))
    return sdk


def test_set_self_info_reaches_every_device_and_get_users_info_reads_it(server):
    phone, laptop = device(server, "pf-alice", "pf-alice-phone", "android"), device(server, "pf-alice", "pf-alice-pc")
    bob = device(server, "pf-bob", "pf-bob")
    on_phone, on_laptop = SelfInfo(), SelfInfo()
    phone.add_imsdk_listener(on_phone)
    laptop.add_imsdk_listener(on_laptop)

    asyncio.run(phone.set_self_info(oxim.V2TIMUserFullInfo(
        nick_name="Alice", level=3, allow_type=oxim.V2TIMFriendAllowType.V2TIM_FRIEND_ALLOW_ANY,
        custom_info={"Blood": "A"})))
    for listener in (on_phone, on_laptop):
        told = listener.told.get(timeout=15)
        assert (told.user_id, told.nick_name, told.level) == ("pf-alice", "Alice", 3)
        assert told.allow_type == oxim.V2TIMFriendAllowType.V2TIM_FRIEND_ALLOW_ANY
        assert told.custom_info == {"Blood": "A"}
        assert told.gender == oxim.V2TIMGender.V2TIM_GENDER_UNKNOWN

    read = asyncio.run(bob.get_users_info(["pf-nobody", "pf-alice"]))
    assert [p.user_id for p in read] == ["pf-alice"]
    assert read[0].nick_name == "Alice"

    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(phone.set_self_info(oxim.V2TIMUserFullInfo(custom_info={"key1": "v"})))
    assert e.value.code == 9001
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(bob.get_users_info([f"u{i}" for i in range(101)]))
    assert e.value.code == 9006
    for sdk in (phone, laptop, bob):
        sdk.un_init_sdk()
