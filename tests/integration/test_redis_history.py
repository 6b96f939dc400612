"""History across nodes through Redis (README "Several nodes (Redis)"): offsets assigned by
Redis (the same on every node), recovery after reconnecting to another node (no gap, no
duplicate, byte-exact), trimmed or lost streams answered as on one node, Redis killed in the
middle of traffic, presence across nodes (union, join/leave events, a killed node's entries expiring), and a
connect timeout for a Redis address that never answers."""

import asyncio
import base64
import json
import os
import shutil
import socket
import time

import pytest
import websockets

from harness import HOST, expect_silence, recv_json, request, run, ws_connect
from test_redis import PREFIX, RedisServer, resp, wait_ready
from test_redis import redis_server  # noqa: F401  (the fixture)

CHANNELS = [
    {"match": "h.*", "history_size": 1000},
    {"match": "tiny", "history_size": 5},
    {"match": "echoed", "history_size": 100, "echo": True},
    {"match": "pr.*", "presence": True},
]


def make_nodes(relay_factory, redis_port, n=3):
    broker = {"type": "redis", "address": f"{HOST}:{redis_port}", "prefix": PREFIX}
    made = [relay_factory({"broker": broker, "channels": CHANNELS}) for _ in range(n)]
    for node in made:
        wait_ready(node, 200)
    return made


@pytest.fixture
def nodes(relay_factory, redis_server):  # noqa: F811
    return make_nodes(relay_factory, redis_server.port)


async def deliveries(ws, n, timeout=20.0):
    """The next n deliveries on a /ws connection (offset, payload)."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        d = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        assert "channel" in d, f"expected a delivery, got {d}"
        out.append((d["offset"], d.get("text", d.get("binary", d.get("data")))))
    return out


def test_offsets_come_from_redis_and_match_on_every_node(nodes, redis_server):  # noqa: F811
    a, b, c = nodes
    N = 60

    async def main():
        async with ws_connect(b.url("/ws")) as js_b, ws_connect(c.url("/ws")) as js_c, \
                ws_connect(a.url("/ws")) as pub_a, ws_connect(b.url("/ws")) as pub_b:
            acks = [await request(js, {"op": "subscribe", "channel": "h.same", "id": 1})
                    for js in (js_b, js_c)]
            assert acks[0]["offset"] == 0 and acks[0]["epoch"] == acks[1]["epoch"]
            redis_server.wait_numsub("h.same", 2)
            sent = {}
            for i in range(N):
                pub = pub_a if i % 2 else pub_b
                ack = await request(pub, {"op": "publish", "channel": "h.same", "text": f"m{i}", "id": i})
                assert ack["ok"] is True
                sent[ack["offset"]] = f"m{i}"
            assert sorted(sent) == list(range(1, N + 1))  # one counter across both nodes
            for js in (js_b, js_c):
                got = await deliveries(js, N)
                assert got == [(o, sent[o]) for o in range(1, N + 1)]
                await expect_silence(js, 0.3)
            # Any node answers the history op from the same stream.
            for node in (a, b, c):
                async with ws_connect(node.url("/ws")) as js:
                    r = await request(js, {"op": "history", "id": 9, "channel": "h.same", "limit": 5})
                    assert r["epoch"] == acks[0]["epoch"] and r["offset"] == N
                    assert [(p["offset"], p["text"]) for p in r["publications"]] == \
                        [(o, sent[o]) for o in range(N - 4, N + 1)]
    run(main(), 120)
    # The keys the README lists.
    assert resp(redis_server.port, "TYPE", PREFIX + "h:h.same") == "hash"
    assert resp(redis_server.port, "TYPE", PREFIX + "s:h.same") == "stream"
    assert resp(redis_server.port, "XLEN", PREFIX + "s:h.same") == N


def test_recovery_on_another_node_while_publishing(nodes, redis_server):  # noqa: F811
    """Subscribed on A, gone, back on B with the last offset: exactly what was missed, then
    live messages, with a publisher on C running all along (the seam: no gap, no dup)."""
    a, b, c = nodes

    async def main():
        sent = {}
        stop = asyncio.Event()

        async def publisher():
            async with ws_connect(c.url("/ws")) as pub:
                i = 0
                while not stop.is_set():
                    blob = os.urandom(1 + i % 300)
                    ack = await request(pub, {"op": "publish", "channel": "h.rec", "id": i,
                                              "binary": base64.b64encode(blob).decode()})
                    assert ack["ok"] is True, ack
                    sent[ack["offset"]] = blob
                    i += 1
                    await asyncio.sleep(0.002)

        async with ws_connect(a.url("/ws")) as js_a:
            first = await request(js_a, {"op": "subscribe", "channel": "h.rec", "id": 1})
            epoch = first["epoch"]
            redis_server.wait_numsub("h.rec", 1)
            task = asyncio.create_task(publisher())
            got = await deliveries(js_a, 40)
            last = got[-1][0]
        await asyncio.sleep(0.3)  # more is published while the client is away
        async with ws_connect(b.url("/ws")) as js_b:
            ack = await request(js_b, {"op": "subscribe", "channel": "h.rec", "id": 2,
                                       "recover": {"offset": last, "epoch": epoch}})
            assert ack["recovered"] is True and ack["epoch"] == epoch, ack
            assert ack["replayed"] == ack["offset"] - last
            await asyncio.sleep(0.5)  # live traffic on B from here
            stop.set()
            await task
            top = max(sent)
            rest = await deliveries(js_b, top - last, timeout=30)
            assert [o for o, _ in rest] == list(range(last + 1, top + 1))
            assert all(base64.b64decode(p) == sent[o] for o, p in rest)
            await expect_silence(js_b, 0.5)
        # The raw path: ?since= on a third node, byte-exact frames.
        async with ws_connect(a.url(f"/channels/h.rec?since={last}&epoch={epoch}")) as raw:
            frames = [await asyncio.wait_for(raw.recv(), 10) for _ in range(top - last)]
            assert frames == [sent[o] for o in range(last + 1, top + 1)]
    run(main(), 150)


def test_trimmed_or_foreign_positions_are_unrecoverable_on_any_node(nodes, redis_server):  # noqa: F811
    a, b, _ = nodes

    async def main():
        async with ws_connect(a.url("/ws")) as pub:
            for i in range(20):
                ack = await request(pub, {"op": "publish", "channel": "tiny", "text": str(i), "id": i})
                assert ack["offset"] == i + 1
        assert resp(redis_server.port, "XLEN", PREFIX + "s:tiny") == 5  # MAXLEN = history_size
        async with ws_connect(b.url("/ws")) as js:
            r = await request(js, {"op": "history", "id": 1, "channel": "tiny", "limit": 10})
            epoch = r["epoch"]
            assert [p["offset"] for p in r["publications"]] == [16, 17, 18, 19, 20]
            ack = await request(js, {"op": "subscribe", "channel": "tiny", "id": 2,
                                     "recover": {"offset": 3, "epoch": epoch}})
            assert ack["recovered"] is False and ack["reason"] == "offset_too_old"
            ack = await request(js, {"op": "subscribe", "channel": "h.other", "id": 3,
                                     "recover": {"offset": 3, "epoch": "0badf00d"}})
            assert ack["recovered"] is False and ack["reason"] == "epoch_changed"
        async with ws_connect(b.url("/ws")) as js:
            ack = await request(js, {"op": "subscribe", "channel": "tiny", "id": 4,
                                     "recover": {"offset": 17, "epoch": epoch}})
            assert ack == {"id": 4, "ok": True, "epoch": epoch, "offset": 20, "recovered": True,
                           "replayed": 3}
            assert [await recv_json(js) for _ in range(3)] == \
                [{"channel": "tiny", "offset": o, "text": str(o - 1)} for o in (18, 19, 20)]
        # The script gone from Redis' cache: NOSCRIPT, sent again as EVAL, nothing lost.
        assert resp(redis_server.port, "SCRIPT", "FLUSH") == "OK"
        r = a.http("POST", "/channels/tiny", {"Content-Type": "text/plain"}, b"after flush")
        assert r.status == 200 and json.loads(r.body)["offset"] == 21, r
        r = a.http("POST", "/channels/tiny", {"Content-Type": "text/plain"}, b"again")
        assert r.status == 200 and json.loads(r.body)["offset"] == 22, r
        async with ws_connect(b.url(f"/channels/tiny?since=2&epoch={epoch}")) as raw:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(raw.recv(), 10)
            assert closed.value.rcvd.code == 4009 and closed.value.rcvd.reason == "offset_too_old"
    run(main(), 60)


@pytest.mark.parametrize("persistent", [False, True], ids=["redis-emptied", "redis-kept-data"])
def test_redis_killed_mid_traffic_on_a_channel_with_history(relay_factory, persistent):
    """Every subscriber has every acknowledged message in order, or is told (4009); every
    publish during the outage fails visibly."""
    r = RedisServer()
    extra = ("--appendonly", "yes", "--appendfsync", "always") if persistent else ()
    r.start(*extra)
    try:
        a, b = make_nodes(relay_factory, r.port, 2)

        async def main():
            acked = {}
            failed = 0

            async with ws_connect(b.url("/ws")) as js_b, ws_connect(b.url("/channels/h.kill")) as raw_b, \
                    ws_connect(a.url("/ws")) as pub:
                first = await request(js_b, {"op": "subscribe", "channel": "h.kill", "id": 1})
                epoch = first["epoch"]
                r.wait_numsub("h.kill", 1)

                async def publish(i):
                    nonlocal failed
                    ack = await request(pub, {"op": "publish", "channel": "h.kill", "text": f"m{i}", "id": i})
                    if ack.get("ok"):
                        acked[ack["offset"]] = f"m{i}"
                    else:
                        assert ack["error"]["code"] == 503, ack
                        failed += 1

                for i in range(100):
                    await publish(i)
                pre = dict(acked)
                assert sorted(pre) == list(range(1, 101))
                r.kill()
                for i in range(100, 130):  # the outage: each one refused
                    await publish(i)
                assert failed == 30
                wait_ready(a, 503)
                r.start(*extra)
                for node in (a, b):
                    wait_ready(node, 200, timeout=30)
                if persistent:
                    r.wait_numsub("h.kill", 1, timeout=30)
                else:  # b re-SUBSCRIBEs, finds a new epoch, closes its subscribers, leaves
                    await asyncio.sleep(1)
                for i in range(130, 200):
                    await publish(i)

                # /ws: offsets in order without a gap, or a 4009 close.
                seen = []
                code = None
                try:
                    while True:
                        d = await recv_json(js_b, 5)
                        seen.append((d["offset"], d["text"]))
                except websockets.ConnectionClosed as e:
                    code = (e.rcvd.code, e.rcvd.reason)
                except asyncio.TimeoutError:
                    pass
                raw_seen = []
                raw_code = None
                try:
                    while True:
                        raw_seen.append(await asyncio.wait_for(raw_b.recv(), 5))
                except websockets.ConnectionClosed as e:
                    raw_code = (e.rcvd.code, e.rcvd.reason)
                except asyncio.TimeoutError:
                    pass
                before = [(o, pre[o]) for o in sorted(pre)]
                if persistent:
                    assert seen[:100] == before and raw_seen[:100] == [t for _, t in before]
                    # The stream survived: nothing to tell, everything after the outage too.
                    assert code is None and raw_code is None
                    assert [o for o, _ in seen] == list(range(1, 171))
                    assert seen == [(o, acked[o]) for o in range(1, 171)]
                    assert raw_seen == [acked[o] for o in range(1, 171)]
                    async with ws_connect(b.url("/ws")) as js:
                        ack = await request(js, {"op": "subscribe", "channel": "h.kill", "id": 1,
                                                 "recover": {"offset": 100, "epoch": epoch}})
                        assert ack["recovered"] is True and ack["replayed"] == 70
                else:
                    # Redis came back empty: a new epoch, and the subscribers are told.
                    assert code == (4009, "epoch_changed"), (code, seen[-3:])
                    assert raw_code == (4009, "epoch_changed")
                    # What was delivered is in order without a gap; the last messages
                    # before the kill may have died in Redis' output buffer: told, too.
                    assert seen == before[:len(seen)] and len(seen) >= 90
                    assert raw_seen == [t for _, t in before][:len(raw_seen)] and len(raw_seen) >= 90
        run(main(), 150)
        assert "lost redis" in a.log_text()
    finally:
        r.kill()
        shutil.rmtree(r.dir, ignore_errors=True)


def test_presence_across_three_nodes(nodes, redis_server):  # noqa: F811
    a, b, c = nodes

    async def presence(node):
        async with ws_connect(node.url("/ws")) as js:
            return await request(js, {"op": "presence", "id": 5, "channel": "pr.room"})

    async def main():
        async with ws_connect(a.url("/ws")) as js_a, ws_connect(b.url("/ws")) as js_b:
            await request(js_a, {"op": "subscribe", "channel": "pr.room", "id": 1, "presence_events": True})
            redis_server.wait_numsub("pr.room", 1)
            await js_b.send(json.dumps({"op": "subscribe", "channel": "pr.room", "id": 1,
                                        "presence_events": True}))
            assert (await recv_json(js_b))["id"] == 1
            joined_b = await recv_json(js_a, 10)
            assert set(joined_b) == {"channel", "join"} and joined_b["channel"] == "pr.room"
            redis_server.wait_numsub("pr.room", 2)
            # A's own join may reach B's subscriber late (A's PUBLISH and B's SUBSCRIBE travel
            # on different Redis connections, so on a loaded machine B can be subscribed
            # first): C's join is the next join of a member not already there.
            for _ in range(100):
                members = (await presence(a))["clients"]
                if len(members) == 2:
                    break
                await asyncio.sleep(0.1)
            known = {json.dumps(m, sort_keys=True) for m in members}
            assert len(known) == 2, members
            raw_c = await ws_connect(c.url("/channels/pr.room")).__aenter__()

            async def next_join(js):
                while True:
                    event = await recv_json(js, 10)
                    if json.dumps(event.get("join"), sort_keys=True) not in known:
                        return event
            joined_c = [await next_join(js) for js in (js_a, js_b)]
            assert joined_c[0] == joined_c[1] and "join" in joined_c[0]
            nodes_seen = {joined_b["join"]["node"], joined_c[0]["join"]["node"]}
            assert len(nodes_seen) == 2
            for node in (a, b, c):  # the union, whichever node is asked
                r = await presence(node)
                assert r["count"] == 3, r
                assert len({m["node"] for m in r["clients"]}) == 3
                assert joined_b["join"] in r["clients"] and joined_c[0]["join"] in r["clients"]
            # A clean leave crosses nodes as an event.
            await request(js_b, {"op": "unsubscribe", "channel": "pr.room", "id": 2})
            assert await recv_json(js_a, 10) == {"channel": "pr.room", "leave": joined_b["join"]}
            assert (await presence(a))["count"] == 2
            # SIGKILL: no leave is ever sent; C's entry stops counting once its liveness key
            # expires (10 s after its last refresh).
            c.proc.kill()
            c.proc.wait(5)
            started = time.monotonic()
            while (await presence(a))["count"] != 1:
                assert time.monotonic() - started < 40, "C's entry outlived its node"
                await asyncio.sleep(0.5)
            r = await presence(b)
            assert r["count"] == 1 and r["clients"][0]["node"] not in nodes_seen
    run(main(), 120)


def test_silent_redis_address_times_out_and_backs_off(relay_factory):
    """A socket that accepts nothing and answers nothing (its backlog full, or a listener
    that never reads): the node must not hang; /readyz 503 and it keeps retrying."""
    silent = socket.socket()
    silent.bind((HOST, 0))
    silent.listen(1)  # accepted by the kernel, never read: no PONG ever comes
    port = silent.getsockname()[1]
    try:
        node = relay_factory({"broker": {"type": "redis", "address": f"{HOST}:{port}", "prefix": PREFIX}})
        assert node.http("GET", "/readyz").status == 503
        assert node.http("POST", "/channels/x", {"Content-Type": "text/plain"}, b"x").status == 503
        deadline = time.monotonic() + 30
        while node.log_text().count("did not answer within") < 2:
            assert time.monotonic() < deadline, node.log_text()[-2000:]
            time.sleep(0.2)
        assert node.http("GET", "/healthz").status == 200  # the loop is alive
        assert node.http("GET", "/readyz").status == 503
    finally:
        silent.close()
