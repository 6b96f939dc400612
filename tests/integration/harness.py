"""Integration harness: starts the real wsrelay binary and drives it from pytest.

As in Redis tests/unit (start_server) and Dragonfly tests/dragonfly/instance.py: each test
gets its own process with a config written to a temp dir (free loopback ports for the public
and the metrics listener), a test-owned NOTIFY_SOCKET whose datagrams are collected by a
background thread, and helpers for HTTP, raw sockets, signals, RSS and the log. The process
is always killed at teardown, and a sanitizer report on its stderr fails the test.

Everything talks to 127.0.0.1 only, and every wait is bounded.
"""

import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HOST = "127.0.0.1"
READY_TIMEOUT = 10.0
SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "SUMMARY: AddressSanitizer",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "runtime error:",
    "ThreadSanitizer",
)
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

SOURCE_DIR = os.environ.get(
    "RELAY_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
NODE_PATH = os.environ.get("NODE_PATH", os.path.join(SOURCE_DIR, "tests", "node", "node_modules"))


def wsrelay_bin():
    path = os.environ.get("WSRELAY_BIN") or os.path.join(SOURCE_DIR, "build-it", "daemon", "wsrelay")
    if not os.access(path, os.X_OK):
        pytest.fail(f"wsrelay binary not found: {path} (set WSRELAY_BIN)")
    return path


def free_ports(n):
    """n distinct free loopback ports (all held open while picking, so they differ)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def deep_merge(base, extra):
    out = copy.deepcopy(base)
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def sanitizer_report(text):
    return next((p for p in SANITIZER_PATTERNS if p in text), None)


# ---------------------------------------------------------------------------------------
# HTTP over raw sockets (so tests control every byte of the request)

class HttpResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return f"HttpResponse({self.status} {self.reason!r}, {self.headers!r}, {self.body[:200]!r})"


def read_http_response(sock, timeout=5.0, head_only=False):
    """Reads one HTTP/1.1 response; the body by Content-Length, else up to EOF."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response head: {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
    assert m, f"bad status line {lines[0]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(m.group(1))
    if head_only or status == 101:
        return HttpResponse(status, m.group(2), headers, rest)
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        body = rest[:n]
    else:
        body = rest
        with contextlib.suppress(OSError):
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
    return HttpResponse(status, m.group(2), headers, body)


def http_request(port, method, path, headers=None, body=b"", timeout=5.0):
    """One request on a fresh connection; returns HttpResponse."""
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Host": f"{HOST}:{port}", "Connection": "close"}
    if body or method in ("POST", "PUT"):
        hdrs["Content-Length"] = str(len(body))
    hdrs.update(headers or {})
    req = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(req.encode("latin-1") + body)
        return read_http_response(s, timeout)


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_request(port, path, extra=None, omit=(), host=None):
    """The bytes of a WebSocket upgrade request; `extra` adds/overrides headers."""
    key = ws_key()
    hdrs = {
        "Host": host or f"{HOST}:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    hdrs.update(extra or {})
    for name in omit:
        hdrs.pop(name, None)
    req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return req.encode("latin-1"), key


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


# ---------------------------------------------------------------------------------------
# A minimal RFC 6455 client codec for raw-socket tests (clients that never read, etc.)

def encode_client_frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return head + mask + masked


def decode_server_frames(data):
    """Splits server (unmasked) frames: returns ([(fin, opcode, payload)], rest)."""
    frames = []
    i = 0
    while True:
        if len(data) - i < 2:
            break
        b0, b1 = data[i], data[i + 1]
        assert not b1 & 0x80, "server frame is masked"
        n = b1 & 0x7F
        j = i + 2
        if n == 126:
            if len(data) - j < 2:
                break
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            if len(data) - j < 8:
                break
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if len(data) - j < n:
            break
        frames.append((bool(b0 & 0x80), b0 & 0x0F, data[j:j + n]))
        i = j + n
    return frames, data[i:]


class RawWs:
    """A WebSocket client on a plain socket, for tests that must misbehave on purpose."""

    def __init__(self, port, path, extra=None, rcvbuf=None, timeout=5.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        req, key = upgrade_request(port, path, extra)
        self.sock.sendall(req)
        self.response = read_http_response(self.sock, timeout, head_only=True)
        assert self.response.status == 101, self.response
        assert self.response.headers.get("sec-websocket-accept") == accept_for(key)
        self.buf = self.response.body

    def send(self, opcode, payload, fin=True):
        self.sock.sendall(encode_client_frame(opcode, payload, fin))

    def send_close(self, code=1000, reason=b""):
        self.send(0x8, struct.pack("!H", code) + reason)

    def read_until_eof(self, timeout):
        """Reads everything until EOF/reset; returns (frames, reached_eof)."""
        deadline = time.monotonic() + timeout
        data = self.buf
        eof = False
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            data += chunk
        frames, self.buf = decode_server_frames(data)
        return frames, eof

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()


def close_code_of(frames):
    for fin, opcode, payload in frames:
        if opcode == 0x8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


# ---------------------------------------------------------------------------------------
# The daemon under test

class Relay:
    """One running wsrelay process."""

    def __init__(self, config=None, args=(), env=None, watchdog_usec=None, config_text=None,
                 config_file=True):
        self.dir = tempfile.mkdtemp(prefix="wsrelay-it-")  # short: AF_UNIX paths are < 108 bytes
        self.config_path = os.path.join(self.dir, "config.json")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.notify_path = os.path.join(self.dir, "notify.sock")
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.watchdog_usec = watchdog_usec
        self.user_config = config or {}
        self.config_text = config_text
        self.config_file = config_file  # False: no --config, addresses given as --listen flags
        self.proc = None
        self.notifications = []  # (monotonic time, {key: value}, raw text)
        self.notify_cond = threading.Condition()
        self.notify_sock = None
        self.notify_thread = None
        self.stop_notify = threading.Event()
        self.port = None
        self.metrics_port = None
        self.config = None

    # --- start / stop -------------------------------------------------------------------

    def base_config(self):
        return {
            "listen": f"{HOST}:{self.port}",
            "metrics_listen": f"{HOST}:{self.metrics_port}",
            "log_level": "info",
            "limits": {"drain_timeout_ms": 3000},
        }

    def write_config(self, config=None, text=None):
        """Writes the file the daemon reads (`config` is merged over the base config)."""
        if text is None:
            self.config = deep_merge(self.base_config(), self.user_config if config is None else config)
            text = json.dumps(self.config, indent=2)
        with open(self.config_path + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.config_path + ".tmp", self.config_path)

    def start(self, wait_ready=True):
        for attempt in range(3):
            self.port, self.metrics_port = free_ports(2)
            self.write_config(text=self.config_text)
            self.open_notify_socket()
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("NOTIFY_", "WATCHDOG_", "LISTEN_", "WSRELAY_"))}
            env["NOTIFY_SOCKET"] = self.notify_path
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            if self.watchdog_usec:
                env["WATCHDOG_USEC"] = str(self.watchdog_usec)
            # One event loop unless a test asks for more (its config's `workers`, or this
            # variable in extra_env): the machine's CPU count must not change what runs.
            env["WSRELAY_WORKERS"] = "1"
            env.update(self.extra_env)
            self.log = open(self.log_path, "ab")
            if self.config_file:
                argv = ["--config", self.config_path]
            else:
                argv = ["--listen", f"{HOST}:{self.port}", "--metrics-listen", f"{HOST}:{self.metrics_port}"]
            self.proc = subprocess.Popen([wsrelay_bin()] + argv + self.args,
                                         stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                         env=env)
            _LIVE.add(self)
            if not wait_ready:
                return self
            if self.wait_notify("READY", "1", timeout=READY_TIMEOUT, quiet=True) is not None:
                return self
            code = self.proc.poll()
            text = self.log_text()
            if code is not None and ("in use" in text or "same port" in text) and attempt < 2:
                self.close_notify_socket()
                continue  # lost a port race with another test; try new ports
            self.kill()
            pytest.fail(f"wsrelay did not send READY=1 within {READY_TIMEOUT}s "
                        f"(exit {code}); log:\n{text[-4000:]}")
        return self

    def open_notify_socket(self):
        self.close_notify_socket()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.notify_path)
        self.notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_sock.bind(self.notify_path)
        self.notify_sock.settimeout(0.1)
        self.stop_notify.clear()
        self.notify_thread = threading.Thread(target=self._notify_loop, daemon=True)
        self.notify_thread.start()

    def close_notify_socket(self):
        if self.notify_thread:
            self.stop_notify.set()
            self.notify_thread.join(2)
            self.notify_thread = None
        if self.notify_sock:
            self.notify_sock.close()
            self.notify_sock = None

    def _notify_loop(self):
        while not self.stop_notify.is_set():
            try:
                data = self.notify_sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            fields = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, _, v = line.partition("=")
                    fields[k] = v
            with self.notify_cond:
                self.notifications.append((time.monotonic(), fields, text))
                self.notify_cond.notify_all()

    def wait_notify(self, key, value=None, timeout=5.0, after=0, quiet=False):
        """Waits for a datagram (index >= after) with key[=value]; returns its index or None."""
        deadline = time.monotonic() + timeout
        with self.notify_cond:
            while True:
                for i in range(after, len(self.notifications)):
                    fields = self.notifications[i][1]
                    if key in fields and (value is None or fields[key] == value):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc and self.proc.poll() is not None and key != "STOPPING"):
                    if quiet:
                        return None
                    raise AssertionError(
                        f"no {key}{'=' + value if value else ''} notification within {timeout}s; "
                        f"got {[n[2] for n in self.notifications]}")
                self.notify_cond.wait(min(left, 0.1))

    def notify_count(self):
        with self.notify_cond:
            return len(self.notifications)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)

    def stop(self):
        """Teardown: SIGTERM (so LeakSanitizer runs), then SIGKILL; returns a sanitizer line or None."""
        try:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            self.kill()
            self.close_notify_socket()
            if getattr(self, "log", None):
                self.log.close()
            _LIVE.discard(self)
        return sanitizer_report(self.log_text())

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- process ------------------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Returns the exit status, or raises AssertionError if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"wsrelay still running {timeout}s later") from None

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    # --- addresses and requests --------------------------------------------------------

    def url(self, path="/", scheme="ws"):
        return f"{scheme}://{HOST}:{self.port}{path}"

    def http(self, method, path, headers=None, body=b"", timeout=5.0, metrics=False):
        port = self.metrics_port if metrics else self.port
        return http_request(port, method, path, headers, body, timeout)

    def metrics_text(self):
        r = self.http("GET", "/metrics", metrics=True)
        assert r.status == 200, r
        return r.body.decode()

    def metric(self, name, labels=None, text=None):
        """The value of one sample (0 when absent)."""
        return parse_metrics(text or self.metrics_text()).get((name, frozenset((labels or {}).items())), 0.0)

    def wait_metric(self, name, predicate, labels=None, timeout=5.0):
        """Metrics are copied into the registry by a 1 s timer: poll until predicate(value)."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.metric(name, labels)
            if predicate(v):
                return v
            if time.monotonic() > deadline:
                raise AssertionError(f"metric {name}{labels or ''} = {v} did not satisfy the check "
                                     f"within {timeout}s")
            time.sleep(0.1)

    def reload(self, config=None, text=None, timeout=10.0):
        """Rewrites the config, sends SIGHUP, waits for RELOADING=1 then READY=1."""
        self.write_config(config, text)
        mark = self.notify_count()
        self.send_signal(signal.SIGHUP)
        i = self.wait_notify("RELOADING", "1", timeout=timeout, after=mark)
        j = self.wait_notify("READY", "1", timeout=timeout, after=i + 1)
        return self.notifications[i][1], self.notifications[j][1]


_LIVE = set()


def kill_all_live():
    for r in list(_LIVE):
        r.kill()


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels.items())): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def metric_names(text):
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, 1)[0])
    return names


@pytest.fixture
def relay_factory(request):
    """relay_factory(config=None, **kw) -> a started Relay; all are stopped at teardown."""
    started = []

    def make(config=None, start=True, **kw):
        r = Relay(config, **kw)
        started.append(r)
        return r.start() if start else r

    yield make
    problems = []
    for r in started:
        report = r.stop()
        log = r.log_text()
        if report:
            start = log.find(report)
            summary = [ln for ln in log.splitlines() if ln.startswith("SUMMARY:")]
            problems.append(f"sanitizer report in wsrelay's stderr ({r.log_path}):\n"
                            f"{log[max(0, start - 200):start + 3000]}\n...\n{chr(10).join(summary)}")
        elif log:
            # Shown by pytest only when the test fails.
            sys.stderr.write(f"--- wsrelay log ({r.dir}) ---\n{log[-6000:]}\n")
        if not report:
            r.cleanup()
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def relay(relay_factory):
    """A wsrelay on the base config."""
    return relay_factory()


# ---------------------------------------------------------------------------------------
# Node `ws` peers, driven over stdin/stdout (one JSON object a line)

class NodePeer:
    """An interactive Node `ws` client (node/peer.js) inside the caller's asyncio loop."""

    def __init__(self, proc):
        self.proc = proc
        self.events = asyncio.Queue()  # open, message, close, error, unexpected-response
        self.acks = asyncio.Queue()  # one "sent" (or error) per send
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                await self.events.put({"ev": "eof"})
                await self.acks.put({"ev": "eof"})
                return
            ev = json.loads(line)
            await (self.acks if ev["ev"] == "sent" else self.events).put(ev)

    @classmethod
    async def connect(cls, url, headers=None, protocols=None, expect_open=True, timeout=10.0, ca=None):
        opts = {"headers": headers or {}, "protocols": protocols or [], "ca": ca}
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        proc = await asyncio.create_subprocess_exec(
            "node", os.path.join(NODE_DIR, "peer.js"), url, json.dumps(opts),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            limit=64 << 20)
        peer = cls(proc)
        _NODE_PROCS.add(proc)
        if expect_open:
            ev = await peer.event(timeout)
            assert ev["ev"] == "open", f"node peer did not open: {ev}"
            peer.protocol = ev.get("protocol")
        return peer

    async def event(self, timeout=5.0):
        ev = await asyncio.wait_for(self.events.get(), timeout)
        if ev["ev"] == "eof":
            raise EOFError("node peer exited")
        return ev

    async def _cmd(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        await self.proc.stdin.drain()

    async def send(self, data):
        """str -> text frame, bytes -> binary frame."""
        if isinstance(data, str):
            await self._cmd({"op": "send", "text": data})
        else:
            await self._cmd({"op": "send", "b64": base64.b64encode(data).decode()})
        ev = await asyncio.wait_for(self.acks.get(), 10)
        assert ev["ev"] == "sent", ev

    async def recv(self, timeout=5.0):
        """The next message: str for text, bytes for binary; AssertionError on close."""
        ev = await self.event(timeout)
        assert ev["ev"] == "message", f"expected a message, got {ev}"
        data = base64.b64decode(ev["b64"])
        return data if ev["binary"] else data.decode()

    async def expect_close(self, timeout=5.0):
        """Skips messages until the close event; returns (code, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            ev = await self.event(max(0.01, deadline - time.monotonic()))
            if ev["ev"] == "close":
                return ev["code"], ev["reason"]

    async def close(self, code=1000):
        with contextlib.suppress(Exception):
            await self._cmd({"op": "close", "code": code})
        await self.finish()

    async def finish(self):
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        self.reader.cancel()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        _NODE_PROCS.discard(self.proc)


_NODE_PROCS = set()


def kill_node_procs():
    for p in list(_NODE_PROCS):
        with contextlib.suppress(ProcessLookupError):
            p.kill()
    _NODE_PROCS.clear()


def run_node(script, args, timeout, input_text=None):
    """Runs node/<script> to completion; returns its last stdout line parsed as JSON."""
    env = dict(os.environ, NODE_PATH=NODE_PATH)
    p = subprocess.run(["node", os.path.join(NODE_DIR, script)] + [str(a) for a in args],
                       input=input_text, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert p.returncode == 0 and lines, f"{script} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return json.loads(lines[-1])


# ---------------------------------------------------------------------------------------
# Python websockets 10.4 clients

def ws_connect(url, **kw):
    """websockets.connect with test defaults (no compression, no keepalive pings)."""
    import websockets
    kw.setdefault("compression", None)
    kw.setdefault("ping_interval", None)
    kw.setdefault("max_size", None)
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 5)
    return websockets.connect(url, **kw)


def run(coro, timeout=60.0):
    """Runs a coroutine with a hard time bound."""
    async def bounded():
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            kill_node_procs()
    return asyncio.run(bounded())


async def recv_json(ws, timeout=5.0):
    msg = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(msg, str), f"expected a text frame, got {msg!r}"
    return json.loads(msg)


async def request(ws, obj, timeout=5.0):
    """Sends a /ws request and returns the reply with the same id (deliveries are skipped)."""
    await ws.send(json.dumps(obj))
    deadline = time.monotonic() + timeout
    while True:
        reply = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if "channel" in reply and "id" not in reply:
            continue
        assert reply.get("id") == obj.get("id"), f"reply {reply} for request {obj}"
        return reply


async def expect_silence(ws, seconds=0.3):
    """Asserts nothing arrives on ws for `seconds`."""
    try:
        msg = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected message {msg!r}")
