"""A real oxim-server (the binary in $OXIM_SERVER_BIN) on an ephemeral loopback port."""

import asyncio
import os
import subprocess
import tempfile
import threading

import pytest

import oxim

SDK_APP_ID = 1400000000


class Server:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="oxim-python-test")
        self.bin = os.environ["OXIM_SERVER_BIN"]
        self.process = subprocess.Popen(
            [self.bin, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir.name, "server")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.process.stdout.readline()  # "oxim-server 0.1.0 listening on 127.0.0.1:PORT"
        self.address = first.strip().rsplit(" ", 1)[-1]
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()
        self.url = f"ws://{self.address}"
        self.sdk_app_id = SDK_APP_ID

    def user_sig(self, user_id, expire=86400):
        out = subprocess.run([self.bin, "usersig", "--user", user_id, "--expire", str(expire)],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def config(self, device, platform="linux"):
        return oxim.V2TIMSDKConfig(
            server_url=self.url,
            data_dir=os.path.join(self.dir.name, "devices", device),
            log_level=oxim.V2TIMLogLevel.V2TIM_LOG_NONE,
            platform=platform)

    def login(self, user, device=None, before_login=None):
        """A new SDK instance on its own device (default: named after the user), logged in as
        `user`; `before_login(sdk)` runs between init_sdk and login (listeners of the first sync)."""
        sdk = oxim.V2TIMManager()
        sdk.init_sdk(self.sdk_app_id, self.config(device or user), None)
        if before_login is not None:
            before_login(sdk)
        asyncio.run(sdk.login(user, self.user_sig(user)))
        return sdk

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.dir.cleanup()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()
