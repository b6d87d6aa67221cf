"""FFI cost from Python: the time of a synchronous call through the generated bindings
(getVersion, getLoginUser), and of one listener callback from Rust into Python.

Callbacks: the receiving SDK instance has LISTENERS simple-message listeners; the event thread
calls them one after the other for each message, so the spread of their timestamps within one
message, divided by LISTENERS - 1, is the cost of one callback (argument conversion, the
foreign call, a trivial Python body), free of network and store time.

Environment: OXIM_SERVER_BIN (the oxim-server binary), the oxim wheel installed (build-python.sh),
OXIM_FFI_CALLS, OXIM_FFI_LISTENERS, OXIM_FFI_MSGS, OXIM_FFI_LIB (a label for the library's
build profile). Prints key=value lines.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import oxim

SDK_APP_ID = 1400000000


class Server:
    def __init__(self, binary, root):
        self.bin = binary
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(root, "server"), "--log", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        first = self.process.stdout.readline()  # "oxim-server 0.1.0 listening on 127.0.0.1:PORT"
        self.url = "ws://" + first.strip().rsplit(" ", 1)[-1]
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def user_sig(self, user):
        out = subprocess.run([self.bin, "usersig", "--user", user], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Stamp(oxim.V2TIMSimpleMsgListener):
    def __init__(self, log):
        self.log = log

    def on_recv_c2c_text_message(self, msg_id, sender, text):
        self.log.append((text, time.perf_counter_ns()))


def per_call(n, f):
    f()
    start = time.perf_counter_ns()
    for _ in range(n):
        f()
    return (time.perf_counter_ns() - start) / n


def main():
    calls = int(os.environ.get("OXIM_FFI_CALLS", "100000"))
    listeners = int(os.environ.get("OXIM_FFI_LISTENERS", "50"))
    msgs = int(os.environ.get("OXIM_FFI_MSGS", "200"))
    with tempfile.TemporaryDirectory(prefix="oxim-ffi-bench") as root:
        server = Server(os.environ["OXIM_SERVER_BIN"], root)
        try:
            def sdk(name):
                s = oxim.V2TIMManager()
                config = oxim.V2TIMSDKConfig(server_url=server.url, data_dir=os.path.join(root, name),
                                             log_level=oxim.V2TIMLogLevel.V2TIM_LOG_NONE, platform="bench")
                s.init_sdk(SDK_APP_ID, config, None)
                asyncio.run(s.login(name, server.user_sig(name)))
                return s

            sender, receiver = sdk("ffi-sender"), sdk("ffi-receiver")
            version_ns = per_call(calls, sender.get_version)
            login_user_ns = per_call(calls, sender.get_login_user)

            log = []
            for _ in range(listeners):
                receiver.add_simple_msg_listener(Stamp(log))

            async def send_all():
                for i in range(msgs):
                    await sender.send_c2c_text_message(f"ffi {i}", "ffi-receiver")

            asyncio.run(send_all())
            deadline = time.monotonic() + 60
            while len(log) < listeners * msgs and time.monotonic() < deadline:
                time.sleep(0.01)
            if len(log) != listeners * msgs:
                sys.exit(f"ffi_bench: {len(log)} of {listeners * msgs} callbacks arrived")
            by_msg = {}
            for text, t in log:
                by_msg.setdefault(text, []).append(t)
            per_callback = sorted((max(ts) - min(ts)) / (len(ts) - 1) for ts in by_msg.values())
            p99 = per_callback[min(len(per_callback) - 1, int(0.99 * len(per_callback)))]
            sender.un_init_sdk()
            receiver.un_init_sdk()
        finally:
            server.stop()
    print("lang=Python")
    print(f"lib={os.environ.get('OXIM_FFI_LIB', '?')}")
    print(f"calls={calls}")
    print(f"get_version_ns={version_ns:.0f}")
    print(f"get_login_user_ns={login_user_ns:.0f}")
    print(f"callbacks={listeners * msgs}")
    print(f"callback_median_ns={statistics.median(per_callback):.0f}")
    print(f"callback_p99_ns={p99:.0f}")


if __name__ == "__main__":
    main()
