"""Helpers for the packaging and deploy tests: run a wsrelay binary on free loopback ports,
watch its sd_notify messages, and talk to it over HTTP and WebSocket (python3-websockets).
Every wait is bounded; nothing leaves 127.0.0.1."""
import asyncio
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time

import websockets

START_TIMEOUT = 30.0  # sanitizer builds start slowly on a busy 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port, method, path, body=None, headers=None, timeout=10.0):
    """One HTTP/1.1 request to 127.0.0.1:port; returns (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Relay:
    """A wsrelay process started with `args`, with a test-owned NOTIFY_SOCKET."""

    def __init__(self, binary, args, env=None, port=None):
        self.port = port  # the public port, used by wait_ready()
        self._dir = tempfile.TemporaryDirectory(prefix="wsrelay-test-")
        self.notify_path = os.path.join(self._dir.name, "notify")
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(self.notify_path)
        self._notify.setblocking(False)
        self.notifications = []
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["NOTIFY_SOCKET"] = self.notify_path
        self.stderr_path = os.path.join(self._dir.name, "stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([binary, *args], env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=self._stderr, stderr=self._stderr)

    def read_notifications(self):
        while True:
            try:
                self.notifications.append(self._notify.recv(4096).decode(errors="replace"))
            except BlockingIOError:
                return self.notifications

    def saw(self, line):
        """Whether some sd_notify datagram carried `line` (e.g. "READY=1")."""
        self.read_notifications()
        return any(line in msg.split("\n") for msg in self.notifications)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits for READY=1 or a 200 from /healthz, whichever comes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"wsrelay exited with {self.proc.returncode}:\n{self.stderr()}")
            if self.saw("READY=1"):
                return
            if self.port:
                try:
                    if http_request(self.port, "GET", "/healthz", timeout=1)[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"wsrelay not ready after {timeout}s:\n{self.stderr()}")

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Sends `sig` and returns the exit status (kills and fails after `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise AssertionError(f"wsrelay ignored signal {sig} for {timeout}s")
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._notify.close()
        self._stderr.close()
        self._dir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


async def subscribe_and_receive(port, channel, publish, count=1, timeout=10.0, token=None):
    """Opens ws://127.0.0.1:port/channels/<channel> (with ?token= when given), runs publish()
    (a blocking function, in a thread) and returns the first `count` messages received."""
    uri = f"ws://127.0.0.1:{port}/channels/{channel}" + (f"?token={token}" if token else "")
    async with websockets.connect(uri, open_timeout=timeout, close_timeout=2) as ws:
        publish_task = asyncio.create_task(asyncio.to_thread(publish))
        got = []
        for _ in range(count):
            got.append(await asyncio.wait_for(ws.recv(), timeout))
        await asyncio.wait_for(publish_task, timeout)
        return got, publish_task.result()
