"""Several nodes through Redis (README "Several nodes (Redis)"): a real redis-server and
three wsrelay nodes on loopback. Cross-node fan-out byte-exact with per-publisher order,
HTTP publish reaching raw and /ws subscribers on the other nodes, Redis killed and
restarted in the middle of traffic, a node killed with SIGKILL."""

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import websockets

from harness import HOST, expect_silence, free_port, recv_json, request, run, ws_connect

PREFIX = "it:"
TEXTS = ["hello", "", "h\u00e9llo \u2713 \U0001F600 \x00\x01\x7f end", "y" * 60000]
BINS = [bytes(range(256)), b"", b"plain ascii but binary", b"\xff" + os.urandom(65535)]


# --- a redis-server of our own ---------------------------------------------------------

def resp(port, *args, timeout=2.0):
    """One Redis command over a fresh connection (RESP2); returns the decoded reply."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        out = f"*{len(args)}\r\n".encode()
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += f"${len(a)}\r\n".encode() + a + b"\r\n"
        s.sendall(out)
        f = s.makefile("rb")

        def read():
            line = f.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:]
            if kind == b"+":
                return rest.decode()
            if kind == b"-":
                raise RuntimeError(rest.decode())
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else f.read(n + 2)[:-2]
            if kind == b"*":
                return [read() for _ in range(int(rest))]
            raise RuntimeError(f"bad reply {line!r}")
        return read()


class RedisServer:
    def __init__(self):
        self.bin = shutil.which("redis-server") or "/usr/bin/redis-server"
        assert os.path.exists(self.bin), "redis-server is missing: deploy/dev/install-deps.sh --test"
        self.dir = tempfile.mkdtemp(prefix="wsrelay-redis-")
        self.port = free_port()
        self.proc = None

    def start(self, *extra):
        self.extra = extra or getattr(self, "extra", ())
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--daemonize", "no", "--logfile", ""] + list(self.extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if resp(self.port, "PING") == "PONG":
                    return self
            except RuntimeError as e:  # NOAUTH: up, with a password
                if "NOAUTH" in str(e):
                    return self
                if "LOADING" not in str(e):  # LOADING: reading its append-only file back
                    raise
            except OSError:
                pass
            assert self.proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer PING within 10 s"
            time.sleep(0.05)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def numsub(self, channel):
        return resp(self.port, "PUBSUB", "NUMSUB", PREFIX + channel)[1]

    def wait_numsub(self, channel, n, timeout=10.0):
        """Waits until n nodes have SUBSCRIBEd to the channel in Redis."""
        deadline = time.monotonic() + timeout
        while self.numsub(channel) != n:
            assert time.monotonic() < deadline, f"{channel}: {self.numsub(channel)} nodes, not {n}"
            time.sleep(0.05)


@pytest.fixture
def redis_server():
    r = RedisServer().start()
    yield r
    r.kill()
    shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def nodes(relay_factory, redis_server):
    broker = {"type": "redis", "address": f"{HOST}:{redis_server.port}", "prefix": PREFIX}
    made = [relay_factory({"broker": broker, "channels": [{"match": "echoed", "echo": True}]})
            for _ in range(3)]
    for n in made:
        wait_ready(n, 200)
    return made


def wait_ready(node, status, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        r = node.http("GET", "/readyz")
        if r.status == status:
            return
        assert time.monotonic() < deadline, f"/readyz stayed {r.status}, not {status}"
        time.sleep(0.05)


def b64(data):
    return base64.b64encode(data).decode()


async def drain(ws, count, timeout=20.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count:
        got.append(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
    return got


# --- fan-out across nodes --------------------------------------------------------------

def test_cross_node_fanout_byte_exact_per_publisher_order(nodes, redis_server):
    a, b, c = nodes
    N = 300

    async def main():
        async with ws_connect(b.url("/channels/room")) as sub_b, \
                ws_connect(c.url("/channels/room")) as sub_c, \
                ws_connect(a.url("/channels/room")) as sub_a, \
                ws_connect(c.url("/ws")) as js_c:
            assert await request(js_c, {"op": "subscribe", "channel": "room", "id": 1}) == {"id": 1, "ok": True}
            async with ws_connect(a.url("/channels/room")) as pub_a, \
                    ws_connect(b.url("/channels/room")) as pub_b:
                redis_server.wait_numsub("room", 3)
                sent_a = []
                for t, bn in zip(TEXTS, BINS):
                    sent_a += [t, bn]
                sent_a += [f"a-{i}" for i in range(N)]
                sent_b = [f"b-{i}".encode() for i in range(N)]
                # Both publishers at once, interleaved: per-publisher order must hold.
                for i in range(max(len(sent_a), len(sent_b))):
                    if i < len(sent_a):
                        await pub_a.send(sent_a[i])
                    if i < len(sent_b):
                        await pub_b.send(sent_b[i])
                total = len(sent_a) + len(sent_b)
                for sub in (sub_b, sub_c, sub_a):
                    got = await drain(sub, total)
                    from_a = [m for m in got if not (isinstance(m, bytes) and m.startswith(b"b-"))]
                    from_b = [m for m in got if isinstance(m, bytes) and m.startswith(b"b-")]
                    assert len(from_a) == len(sent_a) and len(from_b) == len(sent_b)
                    for g, e in zip(from_a, sent_a):
                        assert type(g) is type(e) and g == e, f"{g[:40]!r} != {e[:40]!r}"
                    assert from_b == sent_b
                # Each exactly once (a node skips its own messages coming back from Redis),
                # and never to the publisher itself (no echo on this channel).
                # A publisher's raw connection is a subscriber too: it gets the other's only.
                assert await drain(pub_a, len(sent_b)) == sent_b
                got = await drain(pub_b, len(sent_a))
                assert [(type(m), m) for m in got] == [(type(m), m) for m in sent_a]
                await expect_silence(sub_a, 0.5)
                await expect_silence(pub_a, 0.1)
                await expect_silence(pub_b, 0.1)
                deliveries = []
                while len(deliveries) < total:
                    deliveries.append(await recv_json(js_c, 20))
                assert [d["channel"] for d in deliveries] == ["room"] * total
                got = [d["text"] if "text" in d else base64.b64decode(d["binary"]) for d in deliveries]
                assert [m for m in got if not (isinstance(m, bytes) and m.startswith(b"b-"))] == sent_a
                assert [m for m in got if isinstance(m, bytes) and m.startswith(b"b-")] == sent_b
    run(main(), 120)
    assert a.metric("wsrelay_broker_up") == 1
    a.wait_metric("wsrelay_broker_messages_total", lambda v: v >= len(TEXTS) * 2 + N,
                  {"direction": "out"})
    c.wait_metric("wsrelay_broker_messages_total", lambda v: v >= len(TEXTS) * 2 + 2 * N,
                  {"direction": "in"})


def test_http_publish_on_a_reaches_raw_and_ws_on_b_and_c(nodes, redis_server):
    a, b, c = nodes

    async def main():
        async with ws_connect(b.url("/channels/news")) as raw_b, ws_connect(c.url("/channels/news")) as raw_c, \
                ws_connect(b.url("/ws")) as js_b, ws_connect(c.url("/ws")) as js_c:
            for js in (js_b, js_c):
                assert await request(js, {"op": "subscribe", "channel": "news", "id": 1}) == {"id": 1, "ok": True}
            redis_server.wait_numsub("news", 2)
            blob = os.urandom(4096)
            r = a.http("POST", "/channels/news", {"Content-Type": "application/octet-stream"}, blob)
            assert r.status == 200 and json.loads(r.body) == {"delivered": 0}
            r = a.http("POST", "/channels/news", {"Content-Type": "text/plain"}, "caf\u00e9".encode())
            assert r.status == 200
            r = a.http("POST", "/channels/news", {"Content-Type": "application/json"}, b'{"n": [1, 2]}')
            assert r.status == 200
            for raw in (raw_b, raw_c):
                assert await asyncio.wait_for(raw.recv(), 10) == blob
                assert await asyncio.wait_for(raw.recv(), 10) == "caf\u00e9"
                assert await asyncio.wait_for(raw.recv(), 10) == '{"n": [1, 2]}'
            for js in (js_b, js_c):
                assert await recv_json(js, 10) == {"channel": "news", "binary": b64(blob)}
                assert await recv_json(js, 10) == {"channel": "news", "text": "caf\u00e9"}
                assert await recv_json(js, 10) == {"channel": "news", "data": {"n": [1, 2]}}
    run(main(), 60)


def test_pattern_subscriber_gets_other_nodes_messages_once(nodes, redis_server):
    a, b, _ = nodes

    async def main():
        async with ws_connect(b.url("/ws")) as js_b, ws_connect(b.url("/channels/chat.x")) as raw_b:
            assert await request(js_b, {"op": "subscribe", "channel": "chat.*", "id": 1}) == {"id": 1, "ok": True}
            # PSUBSCRIBE prefix* is in place once Redis counts the pattern.
            deadline = time.monotonic() + 10
            while resp(redis_server.port, "PUBSUB", "NUMPAT") < 1:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            for i in range(20):
                r = a.http("POST", f"/channels/chat.{'x' if i % 2 else 'y'}", {"Content-Type": "text/plain"},
                           f"m{i}".encode())
                assert r.status == 200
            got = [await recv_json(js_b, 10) for _ in range(20)]
            assert [g["text"] for g in got] == [f"m{i}" for i in range(20)]
            await expect_silence(js_b, 0.5)  # once each, though chat.x is also SUBSCRIBEd
            assert [await asyncio.wait_for(raw_b.recv(), 10) for _ in range(10)] == \
                [f"m{i}" for i in range(1, 20, 2)]
    run(main(), 60)


def test_leave_and_rejoin_quickly_keeps_the_subscription(nodes, redis_server):
    """UNSUBSCRIBE then SUBSCRIBE before Redis confirmed the first: the node must still
    get the channel (hiredis forgets a channel on the UNSUBSCRIBE confirmation)."""
    a, b, _ = nodes

    async def main():
        for _ in range(30):
            async with ws_connect(b.url("/ws")) as js:
                await js.send(json.dumps({"op": "subscribe", "channel": "flap"}))
                await js.send(json.dumps({"op": "unsubscribe", "channel": "flap"}))
                assert await request(js, {"op": "subscribe", "channel": "flap", "id": 1}) == {"id": 1, "ok": True}
        async with ws_connect(b.url("/ws")) as js:
            for i in range(5):
                await js.send(json.dumps({"op": "subscribe", "channel": "flap"}))
                await js.send(json.dumps({"op": "unsubscribe", "channel": "flap"}))
            assert await request(js, {"op": "subscribe", "channel": "flap", "id": 1}) == {"id": 1, "ok": True}
            redis_server.wait_numsub("flap", 1)
            await asyncio.sleep(0.5)  # every confirmation in flight has arrived
            assert redis_server.numsub("flap") == 1
            r = a.http("POST", "/channels/flap", {"Content-Type": "text/plain"}, b"still here")
            assert r.status == 200
            assert await recv_json(js, 10) == {"channel": "flap", "text": "still here"}
            # The same with the node's PSUBSCRIBE: the last pattern leaves and one comes back.
            for i in range(5):
                await js.send(json.dumps({"op": "subscribe", "channel": "pat.*"}))
                await js.send(json.dumps({"op": "unsubscribe", "channel": "pat.*"}))
            assert await request(js, {"op": "subscribe", "channel": "pat.*", "id": 3}) == {"id": 3, "ok": True}
            deadline = time.monotonic() + 10
            while resp(redis_server.port, "PUBSUB", "NUMPAT") != 1:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            assert resp(redis_server.port, "PUBSUB", "NUMPAT") == 1
            assert a.http("POST", "/channels/pat.z", {"Content-Type": "text/plain"}, b"p").status == 200
            assert a.http("POST", "/channels/flap", {"Content-Type": "text/plain"}, b"f").status == 200
            assert await recv_json(js, 10) == {"channel": "pat.z", "text": "p"}
            assert await recv_json(js, 10) == {"channel": "flap", "text": "f"}
            await expect_silence(js, 0.5)
    run(main(), 60)


# --- Redis down and back ---------------------------------------------------------------

def test_redis_killed_and_restarted(nodes, redis_server):
    a, b, c = nodes

    async def main():
        async with ws_connect(b.url("/channels/live")) as raw_b, ws_connect(c.url("/ws")) as js_c, \
                ws_connect(a.url("/ws")) as js_a:
            assert await request(js_c, {"op": "subscribe", "channel": "live", "id": 1}) == {"id": 1, "ok": True}
            redis_server.wait_numsub("live", 2)
            # Traffic before the kill arrives.
            for i in range(50):
                reply = await request(js_a, {"op": "publish", "channel": "live", "text": f"pre-{i}", "id": i})
                assert reply == {"id": i, "ok": True, "delivered": 0}
            assert [await asyncio.wait_for(raw_b.recv(), 10) for _ in range(50)] == [f"pre-{i}" for i in range(50)]
            assert [(await recv_json(js_c, 10))["text"] for _ in range(50)] == [f"pre-{i}" for i in range(50)]

            redis_server.kill()
            for n in nodes:
                wait_ready(n, 503)
            # Every publish during the outage fails visibly: HTTP 503, an error ack, 1013.
            r = a.http("POST", "/channels/live", {"Content-Type": "text/plain"}, b"lost?")
            assert r.status == 503
            reply = await request(js_a, {"op": "publish", "channel": "live", "text": "lost?", "id": "x"})
            assert reply == {"id": "x", "error": {"code": 503, "reason": "publish failed"}}
            async with ws_connect(a.url("/channels/live")) as raw_pub:
                await raw_pub.send("lost?")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(raw_pub.recv(), 10)
                assert closed.value.rcvd.code == 1013
            a.wait_metric("wsrelay_broker_up", lambda v: v == 0)

            redis_server.start()  # same port, empty: the nodes SUBSCRIBE again
            for n in nodes:
                wait_ready(n, 200, timeout=30)
            redis_server.wait_numsub("live", 2, timeout=30)
            for i in range(50):
                reply = await request(js_a, {"op": "publish", "channel": "live", "text": f"post-{i}", "id": i})
                assert reply == {"id": i, "ok": True, "delivered": 0}
            # Nothing from the outage, then everything after it, in order.
            assert [await asyncio.wait_for(raw_b.recv(), 10) for _ in range(50)] == [f"post-{i}" for i in range(50)]
            assert [(await recv_json(js_c, 10))["text"] for _ in range(50)] == [f"post-{i}" for i in range(50)]
            await expect_silence(raw_b, 0.3)
    run(main(), 150)
    for n in nodes:
        n.wait_metric("wsrelay_broker_reconnects_total", lambda v: v >= 1)
        n.wait_metric("wsrelay_broker_up", lambda v: v == 1)
    assert "lost redis" in a.log_text()


def test_node_sigkill_leaves_the_others_working(nodes, redis_server):
    a, b, c = nodes

    async def main():
        async with ws_connect(b.url("/channels/k")) as raw_b, ws_connect(c.url("/channels/k")) as raw_c:
            redis_server.wait_numsub("k", 2)
            b.proc.send_signal(signal.SIGKILL)
            b.proc.wait(5)
            redis_server.wait_numsub("k", 1)  # Redis dropped the dead node's subscription
            for i in range(20):
                r = a.http("POST", "/channels/k", {"Content-Type": "text/plain"}, f"k{i}".encode())
                assert r.status == 200
            assert [await asyncio.wait_for(raw_c.recv(), 10) for _ in range(20)] == [f"k{i}" for i in range(20)]
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(raw_b.recv(), 5)
    run(main(), 60)
    for n in (a, c):
        assert n.alive() and n.http("GET", "/readyz").status == 200


def test_password_file_and_a_wrong_password(relay_factory):
    r = RedisServer()
    r.start("--requirepass", "s3cret pass")
    try:
        good = os.path.join(r.dir, "good.pass")
        bad = os.path.join(r.dir, "bad.pass")
        with open(good, "w") as f:
            f.write("s3cret pass\n")
        with open(bad, "w") as f:
            f.write("nope\n")
        broker = {"type": "redis", "address": f"{HOST}:{r.port}", "prefix": PREFIX}
        ok = relay_factory({"broker": dict(broker, password_file=good)})
        refused = relay_factory({"broker": dict(broker, password_file=bad)})
        wait_ready(ok, 200)
        time.sleep(1)
        assert refused.http("GET", "/readyz").status == 503
        assert "redis refused the connection" in refused.log_text()
        assert ok.http("POST", "/channels/p", {"Content-Type": "text/plain"}, b"x").status == 200
        assert refused.http("POST", "/channels/p", {"Content-Type": "text/plain"}, b"x").status == 503
    finally:
        r.kill()
        shutil.rmtree(r.dir, ignore_errors=True)
