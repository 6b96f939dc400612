#!/usr/bin/env python3
"""Hostile soak (issue 9, README "Memory bounds"): the relay under hostile load for a
bounded time, loopback only, while good clients publish and check every message.

Kinds of clients, each kind in its own process (so no kind starves another in Python):
  good   raw-channel and /ws clients on the good channels: each publishes --rate msg/s with
         its name and a sequence number, and checks every message it receives (per publisher
         in order, no loss, no duplicate, not corrupted); none may be closed
  http   one keep-alive HTTP publisher on every good channel (checked by the good clients)
  idle   subscribers on the good channels that never read: raw, and /ws that also pipeline
         requests whose replies they never read (closed as slow consumers)
  flood  raw clients sending 1-byte messages as fast as the relay takes them, each to a
         channel of --flood-readers subscribers that read
  die    clients dying mid-frame (half a frame, half a fragmented message, on the good
         channels, then FIN or RST) and mid-handshake (half a request head)
  storm  reconnect storms: --storm connections at once on the good channels (raw and /ws),
         then all of them reset, again and again

The run starts the relay from --binary with a config that states its limits (the defaults,
written out), then runs a warm-up round of every kind, then the measured round (by default
each half of --seconds, the same load), each followed by --settle seconds without load.

RSS is read from /proc before the first connection, after the warm-up round and after the
measured round. The check is end <= 1.10 x after-warm-up, not against the start: the
allocator keeps the arenas that freed memory came from (glibc returns the top of the heap
only), so the first load grows RSS once to the working size and it stays there; what a user
sees is whether it keeps growing. A leak or memory held after the clients left shows as
growth between the two quiet points. The peak of each round is reported too: a measured
round that peaks higher than the warm-up (say all never-readers' queues full at once) leaves
more fragmented heap behind, which the check counts as growth. Also reported: the kernel's TCP memory
(/proc/net/sockstat, peak), the relay's CPU seconds, what the bad kinds saw at their end
(close code, reset, EOF) and the relay's own close and slow-consumer metrics.

Fails if the relay crashed (or exits non-zero on SIGTERM, or a sanitizer reported), any good
client lost, duplicated, reordered or got a corrupted message, a good client was closed, an
HTTP publish was refused, or RSS grew past the bound.

    python3 tests/soak/soak.py --binary build-rel/daemon/wsrelay --seconds 180   # README
    python3 tests/soak/soak.py --binary build-dev/daemon/wsrelay --seconds 12 \\
        --idle 100 --storm 50 --flood-readers 10 --settle 3                      # ctest smoke

Prints one JSON summary line; exit status 0 = passed. WSRELAY_BIN is used without --binary.
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HOST = "127.0.0.1"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
PAGE = 4096
SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                      "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                      "runtime error:")
# The relay's limits, stated (the defaults of README "Configuration").
LIMITS = {"max_connections": 10000, "max_message_bytes": 65536, "max_queue_bytes": 8388608,
          "queue_soft_bytes": 1048576, "queue_soft_seconds": 10, "handshake_timeout_ms": 10000,
          "ping_interval_ms": 25000, "pong_timeout_ms": 10000, "max_total_queue_bytes": 0,
          "socket_send_buffer": 65536}


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# ---- WebSocket bits on plain sockets -----------------------------------------------------

def frame(opcode, payload, fin=True):
    """A client frame, masked with the zero key (the payload goes as is)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + b"\0\0\0\0" + payload


def upgrade_head(path):
    return (f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def connect(port, path, timeout=20.0, rcvbuf=None):
    """An upgraded socket and the bytes that came after the 101 (ConnectionError if refused)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((HOST, port))
        s.sendall(upgrade_head(path))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n")[0].decode("latin-1"))
        return s, rest
    except BaseException:
        s.close()
        raise


def connect_many(port, paths):
    """Upgraded sockets for `paths`, all requests sent before the first answer is read (a
    storm, and fast even on a busy machine): [(socket or None, path, the error)]."""
    pending = []
    for path in paths:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(20)
            s.connect((HOST, port))
            s.sendall(upgrade_head(path))
            pending.append((s, path, None))
        except OSError as e:
            s.close()
            pending.append((None, path, type(e).__name__))
    out = []
    for s, path, err in pending:
        if s is None:
            out.append((None, path, err))
            continue
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed during the handshake")
                buf += chunk
            if not buf.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(buf.split(b"\r\n")[0].decode("latin-1"))
            out.append((s, path, None))
        except OSError as e:
            s.close()
            out.append((None, path, str(e)[:40] or type(e).__name__))
    return out


def split_frames(data):
    """Server frames (unmasked) -> ([(opcode, payload)], the incomplete rest)."""
    out, i, n_all = [], 0, len(data)
    while n_all - i >= 2:
        n = data[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            if n_all - j < 2:
                break
            n = struct.unpack_from("!H", data, j)[0]
            j += 2
        elif n == 127:
            if n_all - j < 8:
                break
            n = struct.unpack_from("!Q", data, j)[0]
            j += 8
        if n_all - j < n:
            break
        out.append((data[i] & 0x0F, bytes(data[j:j + n])))
        i = j + n
    return out, data[i:]


def close_code_in_tail(tail):
    """The close code of a close frame that ends `tail` (the last bytes before EOF)."""
    for i in range(len(tail) - 2, -1, -1):
        if tail[i] == 0x88 and (tail[i + 1] & 0x7F) == len(tail) - i - 2:
            n = len(tail) - i - 2
            return struct.unpack_from("!H", tail, i + 2)[0] if n >= 2 else 1005
    return None


def reset(s):
    """Close with an RST (no TIME_WAIT, nothing flushed)."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass


def drain_outcomes(socks, quiet=1.0, limit=30.0):
    """Reads each socket to its end: {close code | 'reset' | 'eof' | 'open': count}.
    Passes over all of them, each read until it would block; a socket that got nothing for
    `quiet` s (and at least one pass) without ending is counted 'open'."""
    out = {}
    state = {}  # socket -> [the last 256 bytes, when data last came, empty passes]
    start = time.monotonic()
    for s in socks:
        try:
            s.setblocking(False)
            state[s] = [b"", start, 0]
        except OSError:
            out["reset"] = out.get("reset", 0) + 1

    def done(s, what):
        out[what] = out.get(what, 0) + 1
        del state[s]
        s.close()

    while state and time.monotonic() < start + limit:
        for s in list(state):
            st = state[s]
            got = False
            while True:
                try:
                    data = s.recv(1 << 18)
                except BlockingIOError:
                    break
                except OSError:
                    done(s, "reset")
                    break
                if not data:
                    code = close_code_in_tail(st[0])
                    done(s, str(code) if code is not None else "eof")
                    break
                st[0] = (st[0] + data)[-256:]
                got = True
            if s in state:
                if got:
                    st[1], st[2] = time.monotonic(), 0
                else:
                    st[2] += 1
        now = time.monotonic()
        for s in [s for s, st in state.items() if st[2] and now - st[1] > quiet]:
            done(s, "open")
        time.sleep(0.1)
    for s in list(state):
        done(s, "open")
    return out


def add_counts(a, b):
    for k, v in b.items():
        a[k] = a.get(k, 0) + v
    return a


# ---- good clients ---------------------------------------------------------------------------

def payload_for(who, seq, size):
    head = f"{who}:{seq}:"
    return head + "x" * max(0, size - len(head))


class Good:
    """One good client: a raw subscriber of good-{ch} or a /ws client subscribed to it."""

    def __init__(self, port, who, ch, ws):
        self.who, self.ch, self.ws = who, ch, ws
        self.sock, rest = connect(port, "/ws" if ws else f"/channels/good-{ch}")
        self.buf = bytearray(rest)
        self.seq = 0
        self.next = {}  # publisher -> next sequence number expected
        self.got = 0
        self.errors = []
        self.closed = None
        if ws:
            self.sock.sendall(frame(0x1, json.dumps(
                {"op": "subscribe", "channel": f"good-{ch}", "id": "sub"}).encode()))
            deadline = time.monotonic() + 20
            while not self.subscribed():
                if time.monotonic() > deadline:
                    raise ConnectionError(f"{who}: no subscribe ack")
                data = self.sock.recv(1 << 16)
                if not data:
                    raise ConnectionError(f"{who}: closed before the subscribe ack")
                self.buf += data

    def subscribed(self):
        frames, rest = split_frames(self.buf)
        for op, p in frames:
            if op == 0x1 and json.loads(p).get("id") == "sub":
                self.buf = bytearray(rest)
                return True
        return False

    def publish(self, size):
        self.seq += 1
        text = payload_for(self.who, self.seq, size)
        if self.ws:
            body = json.dumps({"op": "publish", "channel": f"good-{self.ch}", "text": text})
        else:
            body = text
        self.sock.sendall(frame(0x1, body.encode()))

    def error(self, what):
        if len(self.errors) < 5:
            self.errors.append(f"{self.who}: {what}")
        else:
            self.errors.append("")

    def on_readable(self, size):
        try:
            data = self.sock.recv(1 << 18)
        except OSError as e:
            data, why = b"", repr(e)
        else:
            why = "EOF"
        if not data:
            self.closed = why
            self.error(f"closed by the relay ({why})")
            return False
        self.buf += data
        frames, rest = split_frames(self.buf)
        self.buf = bytearray(rest)
        for op, p in frames:
            if op == 0x9:
                self.sock.sendall(frame(0xA, p))
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                self.closed = f"close {code}"
                self.error(f"closed by the relay with {code} {p[2:]!r}")
                return False
            text = p.decode("utf-8", "replace")
            if self.ws:
                msg = json.loads(text)
                if "text" not in msg or msg.get("channel") != f"good-{self.ch}":
                    if "error" in msg or msg.get("ok") is not True:
                        self.error(f"unexpected reply {text[:120]}")
                    continue
                text = msg["text"]
            self.check(text, size)
        return True

    def check(self, text, size):
        parts = text.split(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            self.error(f"corrupted message {text[:60]!r}")
            return
        who, seq = parts[0], int(parts[1])
        if who == self.who or not who.startswith(f"c{self.ch}."):
            self.error(f"misrouted message from {who}")
        elif text != payload_for(who, seq, size):
            self.error(f"corrupted message {who}:{seq}")
        elif seq != self.next.get(who, 1):
            self.error(f"from {who}: got {seq}, expected {self.next.get(who, 1)}")
        self.next[who] = max(seq + 1, self.next.get(who, 1))
        self.got += 1


def good_main(port, idx, a, ready, go, stop, pipe, result):
    """a.good_raw + a.good_ws clients on each good channel, in one process."""
    raise_nofile()
    conns = []
    for ch in range(a.good_channels):
        for k in range(a.good_raw + a.good_ws):
            conns.append(Good(port, f"c{ch}.p{idx}.{k}", ch, k >= a.good_raw))
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
    ready.put(idx)
    go.wait()

    def pump(timeout):
        for key, _ in sel.select(timeout):
            c = key.data
            if not c.on_readable(a.payload):
                sel.unregister(c.sock)

    period = 1.0 / a.rate
    next_pub = time.monotonic()
    while not stop.is_set():
        if time.monotonic() >= next_pub:
            for c in conns:
                if c.closed is None:
                    c.publish(a.payload)
            next_pub += period
        pump(max(0.0, min(0.05, next_pub - time.monotonic())))
    result.put({"kind": "finals", "finals": {c.who: c.seq for c in conns}})
    finals = pipe.recv()  # every publisher's last sequence number, from every process

    def missing(c):
        return sum(max(0, n - (c.next.get(w, 1) - 1)) for w, n in finals.items()
                   if w != c.who and w.startswith(f"c{c.ch}."))

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(c.closed is None and missing(c) for c in conns):
        pump(0.05)
    errors = [e for c in conns for e in c.errors]
    result.put({"kind": "good", "clients": len(conns), "ws": sum(c.ws for c in conns),
                "sent": sum(c.seq for c in conns), "received": sum(c.got for c in conns),
                "lost": sum(missing(c) for c in conns), "errors": len(errors),
                "closed": sum(c.closed is not None for c in conns),
                "first_errors": [e for e in errors if e][:5]})
    for c in conns:
        c.sock.close()


def http_main(port, a, ready, go, stop, result):
    """One keep-alive HTTP publisher, --rate msg/s on every good channel."""
    s = socket.create_connection((HOST, port), timeout=20)
    seq = 0
    errors = []
    ready.put("http")
    go.wait()
    period = 1.0 / a.rate
    next_pub = time.monotonic()
    buf = b""
    while not stop.is_set():
        seq += 1
        for ch in range(a.good_channels):
            body = payload_for(f"c{ch}.http", seq, a.payload).encode()
            s.sendall((f"POST /channels/good-{ch} HTTP/1.1\r\nHost: {HOST}\r\n"
                       f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n")
                      .encode() + body)
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("the relay closed the HTTP publisher")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += s.recv(4096)
            buf = buf[length:]
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append("HTTP publish answered " + repr(head.split(b"\r\n")[0]))
        next_pub += period
        time.sleep(max(0.0, next_pub - time.monotonic()))
    s.close()
    result.put({"kind": "finals", "finals": {f"c{ch}.http": seq for ch in range(a.good_channels)}})
    result.put({"kind": "http", "sent": seq * a.good_channels, "errors": len(errors),
                "first_errors": errors[:5]})


# ---- the hostile kinds ----------------------------------------------------------------------

def idle_main(port, a, stop, result):
    """Subscribers of the good channels that never read; the /ws ones pipeline requests."""
    raise_nofile()
    socks, refused, ws = [], 0, set()
    paths = ["/ws" if i % 2 else f"/channels/good-{i % a.good_channels}" for i in range(a.idle)]
    for i, (s, path, err) in enumerate(connect_many(port, paths)):
        if s is None:
            refused += 1
        elif path == "/ws":
            ch = f"good-{i % a.good_channels}"
            reqs = [{"op": "subscribe", "channel": ch, "id": 0}]
            reqs += [{"op": "ping", "id": n} for n in range(1, 50)]
            s.sendall(b"".join(frame(0x1, json.dumps(r).encode()) for r in reqs))
            ws.add(s)
            socks.append(s)
        else:
            socks.append(s)
    stop.wait()
    result.put({"kind": "idle", "connections": len(socks), "refused": refused,
                "outcomes": drain_outcomes([s for s in socks if s not in ws]),
                "ws_outcomes": drain_outcomes([s for s in socks if s in ws])})


def flood_main(port, a, stop, result):
    """--flooders raw clients, each flooding 1-byte messages to its own channel of
    --flood-readers readers (which read everything and ping now and then)."""
    raise_nofile()
    sel = selectors.DefaultSelector()
    readers, flooders = [], []
    for f in range(a.flooders):
        for _ in range(a.flood_readers):
            s, _ = connect(port, f"/channels/flood-{f}")
            s.setblocking(False)
            readers.append(s)
            sel.register(s, selectors.EVENT_READ, [b"", "reader"])
        s, _ = connect(port, f"/channels/flood-{f}")
        s.setblocking(False)
        flooders.append(s)
        sel.register(s, selectors.EVENT_READ, [b"", "flooder"])
    burst = frame(0x2, b"x") * 4096
    pending = {s: memoryview(burst) for s in flooders}
    sent = 0
    outcomes = {"reader": {}, "flooder": {}}
    live = set(readers + flooders)
    next_ping = time.monotonic() + 5
    while not stop.is_set() and live:
        for s in flooders:
            if s not in live:
                continue
            try:
                n = s.send(pending[s])
                sent += n
                pending[s] = pending[s][n:] if n < len(pending[s]) else memoryview(burst)
            except BlockingIOError:
                pass
            except OSError:
                pass  # its end shows on the read side
        for key, _ in sel.select(0.002):
            s = key.fileobj
            try:
                data = s.recv(1 << 18)
            except BlockingIOError:
                continue
            except OSError:
                data = None
            if data:
                key.data[0] = (key.data[0] + data)[-256:]
                continue
            code = close_code_in_tail(key.data[0]) if data is not None else None
            what = "reset" if data is None else (str(code) if code is not None else "eof")
            add_counts(outcomes[key.data[1]], {what: 1})
            sel.unregister(s)
            live.discard(s)
        if time.monotonic() > next_ping:  # input, so the relay's keep-alive never closes them
            next_ping += 5
            for s in readers:
                if s in live:
                    try:
                        s.send(frame(0x9, b"p"))
                    except OSError:
                        pass
    for s in live:
        sel.unregister(s)
    for who, group in (("reader", readers), ("flooder", flooders)):
        add_counts(outcomes[who], drain_outcomes([s for s in group if s in live], 0.5, 10))
    result.put({"kind": "flood", "flooders": a.flooders, "readers": len(readers),
                "messages_sent": sent // 7, "outcomes": outcomes})


def die_main(port, a, stop, result):
    """Clients dying mid-frame and mid-handshake, on the good channels, one after another."""
    counts = {"mid_frame": 0, "mid_fragment": 0, "mid_handshake": 0, "ws_mid_frame": 0,
              "refused": 0}
    rnd = random.Random(9)
    n = 0
    while not stop.is_set():
        n += 1
        kind = ("mid_frame", "mid_fragment", "mid_handshake", "ws_mid_frame")[n % 4]
        path = "/ws" if kind == "ws_mid_frame" else f"/channels/good-{n % a.good_channels}"
        try:
            if kind == "mid_handshake":
                s = socket.create_connection((HOST, port), timeout=10)
                head = upgrade_head(path)
                s.sendall(head[:rnd.randrange(1, len(head) - 1)])
            else:
                s, _ = connect(port, path)
                if kind == "mid_frame":
                    f = frame(0x1, os.urandom(rnd.randrange(200, 60000)).hex().encode()[:60000])
                elif kind == "mid_fragment":
                    f = frame(0x1, b"c0.die:1:" + b"x" * 1000, fin=False) + frame(0x0, b"y" * 5000)
                else:
                    f = frame(0x1, json.dumps({"op": "publish", "channel": "good-0",
                                               "text": "c0.die:1:" + "x" * 3000}).encode())
                s.sendall(f[:rnd.randrange(2, len(f) - 1)])
            counts[kind] += 1
            if rnd.random() < 0.5:
                reset(s)
            else:
                s.close()
        except OSError:
            counts["refused"] += 1
            stop.wait(0.05)
        if n % 20 == 0:
            stop.wait(0.01)  # a steady stream, not a CPU hog
    result.put({"kind": "die", "counts": counts})


def storm_main(port, a, stop, result):
    """Reconnect storms: --storm connections at once on the good channels (raw and /ws,
    subscribed): every connect and upgrade request sent before the first answer is read;
    after a moment all of them go at once (most with a reset), then again."""
    raise_nofile()
    rounds, connected, outcomes = 0, 0, {}
    while not stop.is_set():
        paths = ["/ws" if i % 3 == 0 else f"/channels/good-{i % a.good_channels}"
                 for i in range(a.storm)]
        socks = []
        for i, (s, path, err) in enumerate(connect_many(port, paths)):
            if s is None:
                add_counts(outcomes, {err: 1})
                continue
            if path == "/ws":
                try:
                    s.sendall(frame(0x1, json.dumps(
                        {"op": "subscribe", "channel": f"good-{i % a.good_channels}"}).encode()))
                except OSError:
                    pass
            socks.append(s)
        connected += len(socks)
        stop.wait(0.3)
        for k, s in enumerate(socks):
            if k % 10 == 0:  # a few leave politely: close frame, then FIN
                try:
                    s.sendall(frame(0x8, struct.pack("!H", 1000)))
                except OSError:
                    pass
                s.close()
            else:
                reset(s)
        rounds += 1
        stop.wait(0.5)
    result.put({"kind": "storm", "rounds": rounds, "connections": connected,
                "refused": outcomes})


# ---- the run ----------------------------------------------------------------------------------

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tcp_mem_bytes():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * PAGE
    return 0


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind((HOST, 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def http_get(port, path):
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body.decode()


def metrics(port):
    """{'name' or 'name{labels}': value} of the relay's metrics."""
    status, body = http_get(port, "/metrics")
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


class Sampler(threading.Thread):
    """Peaks of the relay's RSS and of the kernel's TCP memory, 4 times a second."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.rss_peak, self.tcp_peak = pid, 0, 0
        self.tcp_start = tcp_mem_bytes()
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(0.25):
            try:
                self.rss_peak = max(self.rss_peak, rss_kb(self.pid))
            except OSError:
                return
            self.tcp_peak = max(self.tcp_peak, tcp_mem_bytes())


def run_round(port, seconds, a):
    """One round of every kind at once; returns the kinds' reports."""
    ctx = mp.get_context("fork")
    stop, go = ctx.Event(), ctx.Event()
    result, ready = ctx.Queue(), ctx.Queue()
    hostile = [ctx.Process(target=idle_main, args=(port, a, stop, result)),
               ctx.Process(target=flood_main, args=(port, a, stop, result)),
               ctx.Process(target=die_main, args=(port, a, stop, result)),
               ctx.Process(target=storm_main, args=(port, a, stop, result))]
    pipes = [ctx.Pipe() for _ in range(a.good_procs)]
    good = [ctx.Process(target=good_main, args=(port, i, a, ready, go, stop, pipes[i][1], result))
            for i in range(a.good_procs)]
    if a.http:
        good.append(ctx.Process(target=http_main, args=(port, a, ready, go, stop, result)))
    procs = hostile + good
    for p in procs:
        p.start()
    reports = []
    try:
        for _ in good:
            ready.get(timeout=120)  # every good client subscribed before the first publish
        go.set()
        time.sleep(seconds)
        stop.set()
        finals = {}
        for _ in good:
            r = result.get(timeout=60)
            while r["kind"] != "finals":
                reports.append(r)
                r = result.get(timeout=60)
            finals.update(r["finals"])
        for parent, _ in pipes:
            parent.send(finals)
        while len(reports) < len(procs):
            reports.append(result.get(timeout=90))
    finally:
        stop.set()
        go.set()
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    return reports


def summarize(reports):
    out = {"good": {}, "http": {}, "idle": {}, "flood": {}, "die": {}, "storm": {}}
    for r in reports:
        kind = out[r["kind"]]
        for k, v in r.items():
            if k == "kind":
                continue
            if isinstance(v, (int, float)):
                kind[k] = kind.get(k, 0) + v
            elif isinstance(v, dict):
                if k == "outcomes" and r["kind"] == "flood":
                    for who, counts in v.items():
                        add_counts(kind.setdefault(who, {}), counts)
                else:
                    add_counts(kind.setdefault(k, {}), v)
            elif isinstance(v, list):
                kind[k] = (kind.get(k, []) + v)[:5]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.environ.get("WSRELAY_BIN"))
    ap.add_argument("--seconds", type=float, default=180, help="whole run (warm-up included)")
    ap.add_argument("--warmup", type=float, default=0.5, help="share of --seconds")
    ap.add_argument("--settle", type=float, default=10, help="seconds without load before RSS")
    ap.add_argument("--good-procs", type=int, default=2)
    ap.add_argument("--good-channels", type=int, default=4)
    ap.add_argument("--good-raw", type=int, default=3, help="raw clients per channel and process")
    ap.add_argument("--good-ws", type=int, default=2, help="/ws clients per channel and process")
    ap.add_argument("--rate", type=float, default=20, help="messages/s per good publisher")
    ap.add_argument("--payload", type=int, default=512, help="bytes per good message")
    ap.add_argument("--http", type=int, default=1, help="1: an HTTP publisher too")
    ap.add_argument("--idle", type=int, default=2000, help="subscribers that never read")
    ap.add_argument("--flooders", type=int, default=2)
    ap.add_argument("--flood-readers", type=int, default=100, help="per flooder")
    ap.add_argument("--storm", type=int, default=500, help="connections per storm")
    ap.add_argument("--rss-growth", type=float, default=0.10, help="allowed after warm-up")
    a = ap.parse_args()
    if not a.binary:
        ap.error("--binary (or WSRELAY_BIN) is required")
    raise_nofile()
    port, metrics_port = free_ports(2)
    tmp = tempfile.mkdtemp(prefix="wsrelay-soak-")
    cfg = os.path.join(tmp, "soak.json")
    with open(cfg, "w") as f:
        json.dump({"listen": f"{HOST}:{port}", "metrics_listen": f"{HOST}:{metrics_port}",
                   "log_level": "warn", "demo": False, "limits": LIMITS}, f)
    env = dict(os.environ)
    # Under ASan, a small quarantine: freed blocks held back would look like growth.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:quarantine_size_mb=8")
    log_path = os.path.join(tmp, "relay.log")
    log = open(log_path, "w")
    relay = subprocess.Popen([a.binary, "--config", cfg], stdout=log, stderr=log, env=env,
                             preexec_fn=raise_nofile)
    started = time.monotonic()
    fig = {"binary": a.binary, "seconds": a.seconds, "config_limits": LIMITS}
    reports, exit_code, crashed = [], None, None
    try:
        for _ in range(200):
            try:
                if http_get(port, "/healthz")[0].startswith(b"HTTP/1.1 200"):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the relay did not start")
        fig["rss_start_kb"] = rss_kb(relay.pid)
        sampler = Sampler(relay.pid)
        sampler.start()
        warm = max(4.0, a.seconds * a.warmup)
        reports += run_round(port, warm, a)
        time.sleep(a.settle)
        fig["rss_after_warmup_kb"] = rss_kb(relay.pid)
        fig["rss_peak_warmup_kb"], sampler.rss_peak = sampler.rss_peak, 0
        reports += run_round(port, a.seconds - warm, a)
        time.sleep(a.settle)
        fig["rss_end_kb"] = rss_kb(relay.pid)
        fig["rss_peak_measured_kb"] = sampler.rss_peak
        fig["tcp_mem_start_kb"] = sampler.tcp_start // 1024
        fig["tcp_mem_peak_kb"] = sampler.tcp_peak // 1024
        fig["tcp_mem_end_kb"] = tcp_mem_bytes() // 1024
        fig["relay_cpu_seconds"] = round(cpu_seconds(relay.pid), 2)
        m = metrics(metrics_port)
        fig["relay_closes_by_code"] = {k.split('"')[1]: int(v) for k, v in m.items()
                                       if k.startswith("wsrelay_connections_closed_total{")}
        for name in ("wsrelay_slow_consumer_closes_total", "wsrelay_queue_evictions_total",
                     "wsrelay_connections_accepted_total", "wsrelay_messages_delivered_total",
                     "wsrelay_connections"):
            fig[name] = int(m.get(name, 0))
        fig["relay_refused"] = {k: int(v) for k, v in m.items()
                                if k.startswith("wsrelay_connections_refused_total{")}
        fig["relay_handshake_failures"] = {k.split('"')[1]: int(v) for k, v in m.items()
                                           if k.startswith("wsrelay_handshake_failures_total{")}
    except Exception:
        crashed = traceback.format_exc()
    finally:
        alive = relay.poll() is None
        if alive:
            relay.terminate()
        try:
            exit_code = relay.wait(30)
        except subprocess.TimeoutExpired:
            relay.kill()
            exit_code = "killed after 30 s"
        log.close()
    fig["wall_seconds"] = round(time.monotonic() - started, 1)
    kinds = summarize(reports)
    fig.update(kinds)
    with open(log_path, errors="replace") as f:
        log_text = f.read()
    sanitizer = next((p for p in SANITIZER_PATTERNS if p in log_text), None)
    good, http = kinds["good"], kinds["http"]
    growth = fig.get("rss_end_kb", 0) / fig["rss_after_warmup_kb"] - 1 \
        if fig.get("rss_after_warmup_kb") else None
    fig["rss_growth"] = None if growth is None else round(growth, 4)
    failures = []
    if crashed:
        failures.append(f"the soak stopped: {crashed}")
    if not alive:
        failures.append(f"the relay died during the soak (exit {exit_code})")
    elif exit_code != 0:
        failures.append(f"the relay exited {exit_code} on SIGTERM")
    if sanitizer:
        failures.append(f"sanitizer: {sanitizer}")
    if not good.get("received"):
        failures.append("the good clients received nothing")
    for what in ("lost", "errors", "closed"):
        if good.get(what):
            failures.append(f"good clients {what}: {good[what]} {good.get('first_errors')}")
    if http.get("errors"):
        failures.append(f"HTTP publishes refused: {http}")
    if growth is None or growth > a.rss_growth:
        failures.append(f"RSS grew {growth} after warm-up (allowed {a.rss_growth})")
    fig["failures"] = failures
    fig["ok"] = not failures
    print(json.dumps(fig))
    if failures:
        sys.stderr.write("\n".join(failures) + "\n--- relay log (end) ---\n" + log_text[-4000:])
    else:
        os.remove(log_path)
        os.remove(cfg)
        os.rmdir(tmp)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
