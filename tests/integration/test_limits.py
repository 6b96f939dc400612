"""Every limit and bad input, against the real binary: oversized messages (1009),
invalid UTF-8 (1007), bad channel names (400), malformed and unknown /ws ops, Origin policy
(403), huge request heads (431), a slow consumer (4008, others unaffected, RSS bounded),
slow-loris handshakes, too many connections (503) and invalid config files (exit 78)."""

import asyncio
import json
import os
import socket
import struct
import subprocess
import time

import pytest
import websockets

from harness import (HOST, NodePeer, RawWs, close_code_of, encode_client_frame, expect_silence,
                     free_port, read_http_response,
                     recv_json, request, run, upgrade_request, ws_connect, wsrelay_bin)


async def expect_closed(ws, code, timeout=5.0):
    """Reads until the server closes ws; asserts the close code it sent."""
    deadline = time.monotonic() + timeout
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    assert ws.close_code == code, f"close code {ws.close_code} ({ws.close_reason!r}), expected {code}"


def exchange(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection and reads the response head."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading it all
        return read_http_response(s, timeout)


# --- message size, fragments, UTF-8 --------------------------------------------------------

def test_oversized_message_closed_1009(relay_factory):
    relay = relay_factory({"limits": {"max_message_bytes": 4096, "max_fragments": 8},
                           "channels": [{"match": "tiny", "max_message_bytes": 100}]})

    async def main():
        url = relay.url("/channels/big")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send(b"\xab" * 4096)  # exactly the limit: delivered
            assert await asyncio.wait_for(b.recv(), 5) == b"\xab" * 4096
            await a.send("t" * 4097)
            await expect_closed(a, 1009)
            await expect_silence(b)  # nothing of the oversized message was relayed
        async with ws_connect(url) as a, ws_connect(url) as b:
            # Small fragments that add up to more than the limit.
            await a.send(iter([b"\x01" * 1000] * 5))
            await expect_closed(a, 1009)
        async with ws_connect(url) as a, ws_connect(url) as b:
            # websockets sends N pieces as N frames plus an empty final continuation.
            await a.send(iter(["f"] * 7))  # max_fragments (8) frames: fine
            assert await asyncio.wait_for(b.recv(), 5) == "f" * 7
            await a.send(iter(["f"] * 8))  # 9 frames
            await expect_closed(a, 1009)
        async with ws_connect(relay.url("/channels/tiny")) as a, ws_connect(relay.url("/channels/tiny")) as b:
            await a.send("c" * 100)  # the channel's own max_message_bytes
            assert await asyncio.wait_for(b.recv(), 5) == "c" * 100
            await a.send("c" * 101)
            await expect_closed(a, 1009)
        async with ws_connect(relay.url("/ws")) as ws:
            await ws.send(json.dumps({"op": "publish", "channel": "x", "text": "j" * 5000}))
            await expect_closed(ws, 1009)
        node = await NodePeer.connect(url)
        await node.send(os.urandom(5000))
        assert (await node.expect_close())[0] == 1009
        await node.finish()
    run(main())
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 6, {"code": "1009"})


def test_invalid_utf8_closed_1007(relay):
    async def main():
        url = relay.url("/channels/utf8")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.write_frame(True, 0x1, b"ok \xff\xfe")
            await expect_closed(a, 1007)
            await expect_silence(b)
        async with ws_connect(url) as a, ws_connect(url) as b:
            # A code point split across fragments is valid; a truncated one at the end is not.
            await a.write_frame(False, 0x1, b"\xe2\x82")
            await a.write_frame(True, 0x0, b"\xac")
            assert await asyncio.wait_for(b.recv(), 5) == "\u20ac"
            await a.write_frame(False, 0x1, b"ok")
            await a.write_frame(True, 0x0, b"\xe2\x82")
            await expect_closed(a, 1007)
    run(main())


def rsv1(frame):
    return bytes([frame[0] | 0x40]) + frame[1:]


PROTOCOL_VIOLATIONS = [
    ("unmasked client frame", bytes([0x81, 0x02]) + b"hi", 1002),
    ("reserved opcode 0x3", encode_client_frame(0x3, b"x"), 1002),
    ("reserved opcode 0xB", encode_client_frame(0xB, b""), 1002),
    ("RSV1 without an extension", rsv1(encode_client_frame(0x1, b"x")), 1002),
    ("ping over 125 bytes", encode_client_frame(0x9, b"p" * 126), 1002),
    ("fragmented ping", encode_client_frame(0x9, b"p", fin=False), 1002),
    ("continuation without a start", encode_client_frame(0x0, b"x"), 1002),
    ("new message inside a fragmented one",
     encode_client_frame(0x1, b"a", fin=False) + encode_client_frame(0x1, b"b"), 1002),
    ("close code 1005 on the wire", encode_client_frame(0x8, struct.pack("!H", 1005)), 1002),
    ("close code 999", encode_client_frame(0x8, struct.pack("!H", 999)), 1002),
    ("one-byte close payload", encode_client_frame(0x8, b"\x03"), 1002),
    ("64-bit length with the top bit set", bytes([0x82, 0xFF, 0x80]) + b"\0" * 7 + b"mask", 1002),
    ("close reason not UTF-8", encode_client_frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),
]


@pytest.mark.parametrize("name,data,code", PROTOCOL_VIOLATIONS, ids=[v[0] for v in PROTOCOL_VIOLATIONS])
def test_protocol_violation_closes(relay, name, data, code):
    raw = RawWs(relay.port, "/channels/proto")
    try:
        raw.sock.sendall(data)
        frames, eof = raw.read_until_eof(5)
        assert eof and close_code_of(frames) == code, frames
    finally:
        raw.close()


def test_client_close_code_echoed(relay):
    for payload, echoed in [(struct.pack("!H", 4321) + b"bye", 4321), (b"", 1005)]:
        raw = RawWs(relay.port, "/channels/bye")
        raw.send(0x8, payload)
        frames, eof = raw.read_until_eof(5)
        raw.close()
        assert eof and close_code_of(frames) == echoed, frames
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v == 1, {"code": "4xxx"})  # bounded


# --- bad requests ----------------------------------------------------------------------------

BAD_NAMES = ["bad%20name", "a!b", "x" * 201, "caf%C3%A9", "a%2Fb%00", "semi;colon", "q%3Fx"]


def test_bad_channel_name_refused_400_before_upgrade(relay):
    for name in BAD_NAMES:
        req, _ = upgrade_request(relay.port, "/channels/" + name)
        r = exchange(relay.port, req)
        assert r.status == 400, (name, r)
    req, _ = upgrade_request(relay.port, "/channels/" + "x" * 200)  # the longest good name
    assert exchange(relay.port, req).status == 101

    async def main():
        with pytest.raises(websockets.InvalidStatusCode) as e:
            async with ws_connect(relay.url("/channels/a!b")):
                pass
        assert e.value.status_code == 400
        node = await NodePeer.connect(relay.url("/channels/bad%20name"), expect_open=False)
        ev = await node.event()
        assert ev == {"ev": "unexpected-response", "status": 400}, ev
        await node.finish()
    run(main())
    relay.wait_metric("wsrelay_handshake_failures_total", lambda v: v >= len(BAD_NAMES) + 2, {"status": "400"})


def test_malformed_and_unknown_ops(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            await ws.send("{not json")
            reply = await recv_json(ws)
            assert reply["id"] is None and reply["error"]["code"] == 400, reply
            reply = await request(ws, {"op": "teleport", "channel": "x", "id": 42})
            assert reply["id"] == 42 and reply["error"]["code"] == 404, reply
            assert await request(ws, {"op": "ping", "id": 43}) == {"id": 43, "ok": True}
    run(main())


# --- Origin ----------------------------------------------------------------------------------

async def origin_status(relay, origin, path="/channels/o"):
    """101 or the refusal status for a handshake carrying `origin` (None = no header)."""
    try:
        async with ws_connect(relay.url(path), origin=origin):
            return 101
    except websockets.InvalidStatusCode as e:
        return e.status_code


def test_origin_default_same_origin_only(relay):
    same = f"http://{HOST}:{relay.port}"

    async def main():
        assert await origin_status(relay, None) == 101
        assert await origin_status(relay, same) == 101
        assert await origin_status(relay, same, "/ws") == 101
        for bad in ["http://evil.example", f"http://evil.example:{relay.port}", "null",
                    f"http://localhost:{relay.port}", f"http://{HOST}:{relay.port + 1}"]:
            assert await origin_status(relay, bad) == 403, bad
            assert await origin_status(relay, bad, "/ws") == 403, bad
        node = await NodePeer.connect(relay.url("/channels/o"), headers={"Origin": "http://evil.example"},
                                      expect_open=False)
        assert await node.event() == {"ev": "unexpected-response", "status": 403}
        await node.finish()
        node = await NodePeer.connect(relay.url("/channels/o"), headers={"Origin": same})
        await node.close()
    run(main())
    relay.wait_metric("wsrelay_handshake_failures_total", lambda v: v >= 11, {"status": "403"})


def test_origin_allowed_list(relay_factory):
    relay = relay_factory({"allowed_origins": ["https://app.example", "http://127.0.0.1:1"]})

    async def main():
        assert await origin_status(relay, "https://app.example") == 101
        assert await origin_status(relay, "http://127.0.0.1:1") == 101
        for bad in ["https://evil.example", "http://app.example", "https://app.example.evil",
                    "https://sub.app.example", "null"]:
            assert await origin_status(relay, bad) == 403, bad
    run(main())


def test_origin_star_allows_any(relay_factory):
    relay = relay_factory({"allowed_origins": ["*"]})

    async def main():
        assert await origin_status(relay, "https://anything.example") == 101
        assert await origin_status(relay, None) == 101
    run(main())


# --- request head limits ------------------------------------------------------------------------

def test_2000_request_headers_431(relay):
    extra = {f"X-Filler-{i}": "v" for i in range(2000)}
    req, _ = upgrade_request(relay.port, "/channels/h", extra)
    assert exchange(relay.port, req).status == 431
    head = "GET /healthz HTTP/1.1\r\nHost: x\r\n" + "".join(f"X-F-{i}: v\r\n" for i in range(2000)) + "\r\n"
    assert exchange(relay.port, head.encode()).status == 431


def test_header_count_and_size_limits_431(relay):
    # 70 short lines (< 8 KiB): over max_headers (64).
    req, _ = upgrade_request(relay.port, "/channels/h", {f"X-{i}": "v" for i in range(70)})
    assert len(req) < 8192
    assert exchange(relay.port, req).status == 431
    # One 9,000-byte header: over max_header_bytes (8192).
    req, _ = upgrade_request(relay.port, "/channels/h", {"X-Big": "b" * 9000})
    assert exchange(relay.port, req).status == 431
    # Under both limits: accepted.
    req, _ = upgrade_request(relay.port, "/channels/h", {f"X-{i}": "v" for i in range(50)})
    assert exchange(relay.port, req).status == 101


# --- slow consumer -----------------------------------------------------------------------------

def test_slow_consumer_closed_others_unaffected_memory_bounded(relay_factory):
    # A small ASan quarantine, so RSS reflects what the server holds rather than freed memory.
    relay = relay_factory(
        {"limits": {"max_queue_bytes": 262144, "queue_soft_bytes": 131072, "queue_soft_seconds": 60}},
        env={"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"})
    url = relay.url("/channels/slow")
    count, size = 3000, 16384  # 48 MiB in all, far over the slow client's kernel buffers + queue

    slow = RawWs(relay.port, "/channels/slow", rcvbuf=4096)  # reads nothing until the end

    async def main():
        node = await NodePeer.connect(url)
        async with ws_connect(url) as fast, ws_connect(url) as pub:
            await asyncio.sleep(0.3)
            rss_before = relay.rss_kb()
            rss_peak = rss_before

            # The publisher stays at most `window` messages ahead of the honest subscribers,
            # so only the client that never reads falls behind.
            window = 8  # 128 KiB: half the limit (memory held + the kernel's unsent bytes)
            progress = {"fast": 0, "node": 0}
            moved = asyncio.Event()

            async def publish():
                for seq in range(count):
                    while seq - min(progress.values()) > window:
                        moved.clear()
                        await asyncio.wait_for(moved.wait(), 20)
                    await pub.send(struct.pack("!I", seq) + b"\x5a" * (size - 4))

            async def receive(name, recv):
                for seq in range(count):
                    msg = await recv()
                    assert isinstance(msg, bytes) and len(msg) == size
                    assert struct.unpack("!I", msg[:4])[0] == seq
                    progress[name] = seq + 1
                    moved.set()

            async def sample_rss():
                nonlocal rss_peak
                while True:
                    rss_peak = max(rss_peak, relay.rss_kb())
                    await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample_rss())
            await asyncio.gather(publish(), receive("fast", lambda: asyncio.wait_for(fast.recv(), 20)),
                                 receive("node", lambda: node.recv(20)))
            sampler.cancel()
            await node.close()
            return rss_before, rss_peak

    rss_before, rss_peak = run(main(), timeout=150)
    growth_mb = (rss_peak - rss_before) / 1024
    print(f"RSS before {rss_before} kB, peak {rss_peak} kB, growth {growth_mb:.1f} MiB "
          f"for {count * size >> 20} MiB published")
    relay.wait_metric("wsrelay_slow_consumer_closes_total", lambda v: v == 1)
    frames, eof = slow.read_until_eof(15)
    slow.close()
    assert eof, "the slow consumer's socket was not closed"
    code = close_code_of(frames)
    print(f"the slow consumer read {len(frames)} frames, close code {code}")
    assert code in (None, 4008), f"slow consumer closed with {code}"  # None: no room left to say so
    data = [f for f in frames if f[1] == 0x2]
    assert len(data) < count, "the slow consumer got everything: it was never slow"
    assert growth_mb < 24, f"RSS grew {growth_mb:.1f} MiB"
    assert relay.alive()


def test_soft_queue_limit_closes_after_queue_soft_seconds(relay_factory):
    relay = relay_factory({"limits": {"max_queue_bytes": 64 << 20, "queue_soft_bytes": 262144,
                                      "queue_soft_seconds": 1}})
    slow = RawWs(relay.port, "/channels/soft", rcvbuf=4096)
    count, size = 1000, 16384  # 16 MiB: over the kernel buffers, under the hard limit

    async def main():
        async with ws_connect(relay.url("/channels/soft")) as pub:
            for seq in range(count):
                await pub.send(b"s" * size)
            start = time.monotonic()
            await asyncio.to_thread(relay.wait_metric, "wsrelay_slow_consumer_closes_total",
                                    lambda v: v == 1, None, 10)
            return time.monotonic() - start
    took = run(main())
    frames, eof = slow.read_until_eof(10)
    slow.close()
    assert eof and close_code_of(frames) in (None, 4008)
    print(f"closed {took:.1f}s after the last publish (queue_soft_seconds 1)")


def test_idle_client_pinged_then_closed(relay_factory):
    relay = relay_factory({"limits": {"ping_interval_ms": 300, "pong_timeout_ms": 300}})
    mute = RawWs(relay.port, "/channels/idle")  # reads, but never answers a ping

    async def main():
        # websockets answers pings by itself: it stays, across many intervals.
        async with ws_connect(relay.url("/channels/idle")) as a, ws_connect(relay.url("/channels/idle")) as b:
            pong = await a.ping(b"client ping")
            await asyncio.wait_for(pong, 3)  # and the server answers ours
            frames, eof = await asyncio.to_thread(mute.read_until_eof, 6)
            await asyncio.sleep(0.5)
            await a.send("alive")
            assert await asyncio.wait_for(b.recv(), 5) == "alive"
            return frames, eof
    frames, eof = run(main())
    mute.close()
    assert any(op == 0x9 for _, op, _ in frames), f"no ping before closing: {frames}"
    assert eof and close_code_of(frames) == 1001, frames


# --- slow-loris ----------------------------------------------------------------------------------

def wait_closed(sock, timeout):
    """Reads until EOF/reset; returns (seconds it took, bytes read) or raises on timeout."""
    start = time.monotonic()
    data = b""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"connection still open after {timeout}s (read {data!r})") from None
    return time.monotonic() - start, data


def test_slow_loris_handshake_closed(relay_factory):
    relay = relay_factory({"limits": {"handshake_timeout_ms": 500}})
    # Half a request head, then nothing.
    with socket.create_connection((HOST, relay.port), timeout=5) as s:
        s.sendall(b"GET /channels/x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websock")
        took, data = wait_closed(s, 5)
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), data
    # Nothing at all.
    with socket.create_connection((HOST, relay.port), timeout=5) as s:
        took, data = wait_closed(s, 5)
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), data
    # A byte every 100 ms: the deadline is for the whole head, not per read.
    req, _ = upgrade_request(relay.port, "/channels/x", {f"X-{i}": "v" for i in range(20)})
    with socket.create_connection((HOST, relay.port), timeout=5) as s:
        start = time.monotonic()
        closed = False
        for i in range(len(req) - 4):
            if time.monotonic() - start > 5:
                break
            try:
                s.sendall(req[i:i + 1])
                s.settimeout(0.1)
                s.recv(4096)  # a 408 or EOF: either way the server ended it
                closed = True
                break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed, "a trickling handshake was never dropped"
    # A completed handshake is not subject to the timeout afterwards.

    async def main():
        async with ws_connect(relay.url("/channels/x")) as a, ws_connect(relay.url("/channels/x")) as b:
            await asyncio.sleep(1.2)
            await a.send("still here")
            assert await asyncio.wait_for(b.recv(), 5) == "still here"
    run(main())


# --- max_connections -------------------------------------------------------------------------------

def test_too_many_connections_503(relay_factory):
    relay = relay_factory({"limits": {"max_connections": 3}})

    async def main():
        conns = [await ws_connect(relay.url("/channels/full")).__aenter__() for _ in range(3)]
        try:
            with pytest.raises(websockets.InvalidStatusCode) as e:
                async with ws_connect(relay.url("/channels/full")):
                    pass
            assert e.value.status_code == 503
            # The ones in are unaffected.
            await conns[0].send("hi")
            assert await asyncio.wait_for(conns[1].recv(), 5) == "hi"
        finally:
            await conns.pop().close()
        # With a slot free again, a new client gets in (bounded retries: the close is async).
        deadline = time.monotonic() + 5
        while True:
            try:
                async with ws_connect(relay.url("/channels/full")) as ws:
                    await ws.send("back")
                    assert await asyncio.wait_for(conns[0].recv(), 5) == "back"
                    break
            except websockets.InvalidStatusCode as e:
                assert e.status_code == 503 and time.monotonic() < deadline
                await asyncio.sleep(0.1)
        for c in conns:
            await c.close()
    run(main())
    # Refused at accept, before the upgrade request is read (test_accept_limits.py).
    relay.wait_metric("wsrelay_connections_refused_total", lambda v: v >= 1,
                      {"cause": "max_connections"})


# --- invalid config files -----------------------------------------------------------------------

INVALID_CONFIGS = [
    ('{"limits": {"max_connections": 0}}', "/limits/max_connections"),
    ('{"limits": {"max_connections": "many"}}', "/limits/max_connections"),
    ('{"limits": {"max_message_bytes": -5}}', "/limits/max_message_bytes"),
    ('{"log_level": "loud"}', "/log_level"),
    ('{"demo": "yes"}', "/demo"),
    ('{"bogus_key": 1}', "/bogus_key"),
    ('{"limits": {"max_mesage_bytes": 10}}', "/limits/max_mesage_bytes"),
    ('{"channels": [{"match": "a", "publish": "everyone"}]}', "/channels/0/publish"),
    ('{"channels": [{"match": "a", "echo": "yes"}]}', "/channels/0/echo"),
    ('{"allowed_origins": "*"}', "/allowed_origins"),
    ('{"listen": "not an address"}', "/listen"),
    ('{"tls": {"cert": "/nonexistent/c.pem", "key": "/nonexistent/k.pem"}}', "/tls/cert"),
    ('{"allowed_origins": ["null"]}', "/allowed_origins/0"),
    ('{"allowed_origins": ["http://app.example/path"]}', "/allowed_origins/0"),
    ('{"channels": [{"echo": true}]}', "/channels/0"),
    ('{"limits": ', None),
    ('[1, 2]', None),
]


@pytest.mark.parametrize("text,pointer", INVALID_CONFIGS)
def test_invalid_config_exit_78(tmp_path, text, pointer):
    # Ports nobody listens on, unless the case is about them: if the binary got as far as
    # serving, it would hang and the bounded run would fail.
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        doc.setdefault("listen", f"{HOST}:{free_port()}")
        doc.setdefault("metrics_listen", "")
        text = json.dumps(doc)
    path = tmp_path / "bad.json"
    path.write_text(text)
    for extra in ([], ["--check-config"]):
        p = subprocess.run([wsrelay_bin(), "--config", str(path)] + extra,
                           capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, NOTIFY_SOCKET=""))
        out = p.stdout + p.stderr
        assert p.returncode == 78, f"{extra}: exit {p.returncode}: {out}"
        if pointer:
            assert pointer in out, f"the error does not name {pointer}: {out}"
        assert "AddressSanitizer" not in out and "runtime error" not in out, out


def test_valid_config_check_exit_0(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps({"listen": f"{HOST}:1", "limits": {"max_connections": 5},
                                "channels": [{"match": "a.*", "echo": True, "publish": "both"}]}))
    p = subprocess.run([wsrelay_bin(), "--config", str(path), "--check-config"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    example = os.path.join(os.environ.get("RELAY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                           "config", "wsrelay.example.json")
    if os.path.exists(example):
        p = subprocess.run([wsrelay_bin(), "--config", example, "--check-config"],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 0, p.stdout + p.stderr
