"""Offline push from Python: setOfflinePushConfig, doBackground and doForeground reach the
server for this device (read back from the server's database), a logout ends the registration,
bad input is refused with V2TIM's codes."""

import asyncio
import os
import sqlite3
import time

import pytest

import oxim


def devices(server, user):
    """The server's push rows of `user`: (platform, business_id, token, is_tpns, badge)."""
    path = os.path.join(server.dir.name, "server", "oxim.db")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT platform, business_id, token, is_tpns, badge FROM push_device WHERE user_id = ? "
            "ORDER BY platform", (user,)).fetchall()


def wait_devices(server, user, want):
    deadline = time.monotonic() + 10
    while devices(server, user) != want:
        assert time.monotonic() < deadline, f"the server has {devices(server, user)}, not {want}"
        time.sleep(0.02)


def code_of(call):
    with pytest.raises(oxim.V2TIMError.Failure) as e:
        asyncio.run(call)
    return e.value.code


def test_registration_and_app_state_reach_the_server_and_logout_ends_them(server):
    sdk = oxim.V2TIMManager()
    sdk.init_sdk(server.sdk_app_id, server.config("op-alice-phone", "android"), None)
    push = sdk.get_offline_push_manager()
    config = oxim.V2TIMOfflinePushConfig(business_id=6768, token="fcm-token-1")
    assert code_of(push.set_offline_push_config(config)) == 6014
    asyncio.run(sdk.login("op-alice", server.user_sig("op-alice")))

    assert code_of(push.set_offline_push_config(oxim.V2TIMOfflinePushConfig(business_id=6768, token=""))) == 6017
    assert code_of(push.set_offline_push_config(oxim.V2TIMOfflinePushConfig(business_id=0, token="t"))) == 6017
    assert code_of(push.do_background(-1)) == 6017
    assert devices(server, "op-alice") == []

    asyncio.run(push.set_offline_push_config(config))
    wait_devices(server, "op-alice", [("android", 6768, "fcm-token-1", 0, None)])
    asyncio.run(push.do_background(7))
    wait_devices(server, "op-alice", [("android", 6768, "fcm-token-1", 0, 7)])
    asyncio.run(push.do_foreground())
    wait_devices(server, "op-alice", [("android", 6768, "fcm-token-1", 0, None)])
    tpns = oxim.V2TIMOfflinePushConfig(business_id=11, token="tpns-token", is_tpns_token=True)
    asyncio.run(sdk.get_offline_push_manager().set_offline_push_config(tpns))
    wait_devices(server, "op-alice", [("android", 11, "tpns-token", 1, None)])

    asyncio.run(sdk.logout())
    wait_devices(server, "op-alice", [])
    sdk.un_init_sdk()
