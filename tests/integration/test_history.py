"""History, recovery and presence (README "History and recovery", "Presence"): offsets on
/ws deliveries, subscribe with `recover`, the `history` and `presence` ops, join/leave
events, `?history=N` and `?since=` on raw channels (close 4009), history_ttl and the global
byte bound, and a slow consumer (4008) that resumes. Every check counts offsets: a client
must see each message exactly once and in order, or be told it cannot."""

import asyncio
import json
import random
import socket
import time

import pytest

import harness
from harness import RawWs, close_code_of, decode_server_frames, expect_silence, run, ws_connect

CONFIG = {
    "channels": [
        {"match": "flood", "history_size": 5000},
        {"match": "h.*", "history_size": 1000},
        {"match": "tiny", "history_size": 5},
        {"match": "ttl", "history_size": 100, "history_ttl": 1},
        {"match": "p.*", "presence": True},
        {"match": "hp", "history_size": 10, "presence": True},
    ],
}


@pytest.fixture
def relay(relay_factory):
    return relay_factory(CONFIG)


# Generous waits: the machine may be shared with other test runs (nothing here is timed).
async def request(ws, obj, timeout=30.0):
    return await harness.request(ws, obj, timeout)


async def recv_json(ws, timeout=20.0):
    return await harness.recv_json(ws, timeout)


def publish_http(relay, channel, body, ctype="application/json"):
    r = relay.http("POST", f"/channels/{channel}", {"Content-Type": ctype}, body, timeout=30)
    assert r.status == 200, r
    return r.json()


async def deliveries(ws, n, timeout=20.0):
    """The next n deliveries (anything else is an error)."""
    out = []
    for _ in range(n):
        msg = await recv_json(ws, timeout)
        assert "channel" in msg and "id" not in msg, f"expected a delivery, got {msg}"
        out.append(msg)
    return out


# --- offsets, subscribe ack, recovery on /ws ----------------------------------------------

def test_offsets_and_recovery_of_exactly_the_missed_messages(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as pub:
            async with ws_connect(relay.url("/ws")) as sub:
                ack = await request(sub, {"op": "subscribe", "id": 1, "channel": "h.a"})
                assert ack["ok"] and ack["offset"] == 0 and len(ack["epoch"]) == 8, ack
                epoch = ack["epoch"]
                for i in range(5):
                    r = await request(pub, {"op": "publish", "id": 10 + i, "channel": "h.a",
                                            "data": {"n": i}})
                    assert r["offset"] == i + 1, r
                got = await deliveries(sub, 5)
                assert [m["offset"] for m in got] == [1, 2, 3, 4, 5]
                assert [m["data"]["n"] for m in got] == [0, 1, 2, 3, 4]
                assert "epoch" not in got[0]
            # disconnected: 7 more, of every payload kind
            for i in range(5, 12):
                kind = ("data", "text", "binary")[i % 3]
                value = {"n": i} if kind == "data" else (str(i) if kind == "text" else "AAEC")
                await request(pub, {"op": "publish", "id": 20 + i, "channel": "h.a", kind: value})
            async with ws_connect(relay.url("/ws")) as sub:
                ack = await request(sub, {"op": "subscribe", "id": 2, "channel": "h.a",
                                          "recover": {"offset": 5, "epoch": epoch}})
                assert ack == {"id": 2, "ok": True, "epoch": epoch, "offset": 12,
                               "recovered": True, "replayed": 7}, ack
                got = await deliveries(sub, 7)
                assert [m["offset"] for m in got] == list(range(6, 13))
                assert got[0]["binary"] == "AAEC" and got[1]["data"] == {"n": 6} and got[2]["text"] == "7"
                await request(pub, {"op": "publish", "id": 99, "channel": "h.a", "data": "live"})
                live = await deliveries(sub, 1)
                assert live[0]["offset"] == 13 and live[0]["data"] == "live"
                await expect_silence(sub)
                # Recovering from the top replays nothing and is still "recovered".
            async with ws_connect(relay.url("/ws")) as sub:
                ack = await request(sub, {"op": "subscribe", "id": 3, "channel": "h.a",
                                          "recover": {"offset": 13, "epoch": epoch}})
                assert ack["recovered"] is True and ack["replayed"] == 0
                await expect_silence(sub)
    run(main())
    assert relay.metric("wsrelay_recoveries_total", {"result": "recovered"}) == 2


def test_channels_without_history_are_unchanged_and_say_no_history(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as a, ws_connect(relay.url("/ws")) as b:
            assert await request(a, {"op": "subscribe", "id": 1, "channel": "plain"}) == {"id": 1, "ok": True}
            r = await request(b, {"op": "publish", "id": 2, "channel": "plain", "text": "x"})
            assert r == {"id": 2, "ok": True, "delivered": 1}
            assert await recv_json(a) == {"channel": "plain", "text": "x"}
            ack = await request(b, {"op": "subscribe", "id": 3, "channel": "plain2",
                                    "recover": {"offset": 3, "epoch": "00000000"}})
            assert ack == {"id": 3, "ok": True, "recovered": False, "reason": "no_history"}
            r = await request(b, {"op": "history", "id": 4, "channel": "plain"})
            assert r["error"] == {"code": 410, "reason": "no_history"}
            # recover is not for patterns; malformed recover objects are 400
            r = await request(b, {"op": "subscribe", "id": 5, "channel": "h.*",
                                  "recover": {"offset": 1, "epoch": "x"}})
            assert r["error"]["code"] == 400
            r = await request(b, {"op": "subscribe", "id": 6, "channel": "h.b",
                                  "recover": {"offset": -1, "epoch": "x"}})
            assert r["error"]["code"] == 400
            r = await request(b, {"op": "history", "id": 7, "channel": "h.b", "limit": 0})
            assert r["error"]["code"] == 400
    run(main())


def test_epoch_changes_after_a_restart(relay_factory):
    first = relay_factory(CONFIG)

    async def subscribe_once(relay):
        async with ws_connect(relay.url("/ws")) as sub:
            ack = await request(sub, {"op": "subscribe", "id": 1, "channel": "h.r"})
            publish_http(relay, "h.r", '"x"')
            assert (await deliveries(sub, 1))[0]["offset"] == 1
            return ack["epoch"]
    epoch = run(subscribe_once(first))
    first.stop()
    second = relay_factory(CONFIG)

    async def main():
        async with ws_connect(second.url("/ws")) as sub:
            ack = await request(sub, {"op": "subscribe", "id": 1, "channel": "h.r",
                                      "recover": {"offset": 1, "epoch": epoch}})
            assert ack["recovered"] is False and ack["reason"] == "epoch_changed", ack
            assert ack["epoch"] != epoch and ack["offset"] == 0
            # still subscribed, live from now
            publish_http(second, "h.r", '"after"')
            assert (await deliveries(sub, 1))[0] == {"channel": "h.r", "offset": 1, "data": "after"}
    run(main())
    assert second.metric("wsrelay_recoveries_total", {"result": "epoch_changed"}) == 1


def test_offset_older_than_the_history(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as sub:
            epoch = (await request(sub, {"op": "subscribe", "id": 1, "channel": "tiny"}))["epoch"]
            await request(sub, {"op": "unsubscribe", "id": 2, "channel": "tiny"})
            for i in range(20):
                publish_http(relay, "tiny", str(i))
            ack = await request(sub, {"op": "subscribe", "id": 3, "channel": "tiny",
                                      "recover": {"offset": 14, "epoch": epoch}})
            assert ack["recovered"] is False and ack["reason"] == "offset_too_old" and ack["offset"] == 20
            await expect_silence(sub)  # nothing replayed
            await request(sub, {"op": "unsubscribe", "id": 4, "channel": "tiny"})
            # the oldest still stored is 16: recovering from 15 works
            ack = await request(sub, {"op": "subscribe", "id": 5, "channel": "tiny",
                                      "recover": {"offset": 15, "epoch": epoch}})
            assert ack["recovered"] is True and ack["replayed"] == 5
            assert [m["data"] for m in await deliveries(sub, 5)] == [15, 16, 17, 18, 19]
            # an offset beyond the top is not a position of this stream
            await request(sub, {"op": "unsubscribe", "id": 6, "channel": "tiny"})
            ack = await request(sub, {"op": "subscribe", "id": 7, "channel": "tiny",
                                      "recover": {"offset": 21, "epoch": epoch}})
            assert ack["recovered"] is False and ack["reason"] == "epoch_changed"
    run(main())


def test_publishes_during_recoveries_leave_no_gap_and_no_duplicate(relay):
    """A publisher floods while 30 clients drop and recover over and over; at the end each
    client has seen every offset after its first subscription exactly once, in order."""
    total, clients = 1500, 30

    async def publisher(pub):
        for i in range(total):
            await pub.send(json.dumps({"op": "publish", "channel": "flood", "data": i}))
            if i % 50 == 0:
                await asyncio.sleep(0.005)

    async def client(k, done):
        rnd = random.Random(k)
        seen = []
        epoch, base = None, 0
        recoveries = 0
        while True:
            async with ws_connect(relay.url("/ws")) as ws:
                req = {"op": "subscribe", "id": 1, "channel": "flood"}
                if epoch:
                    req["recover"] = {"offset": seen[-1] if seen else base, "epoch": epoch}
                await ws.send(json.dumps(req))
                ack = await recv_json(ws, 20)
                assert ack.get("ok"), json.dumps(ack)
                if epoch is None:
                    epoch, base = ack["epoch"], ack["offset"]
                else:
                    assert ack["recovered"] is True, json.dumps(ack)
                    recoveries += 1
                    assert ack["epoch"] == epoch
                stay = time.monotonic() + rnd.uniform(0.05, 0.4)
                while time.monotonic() < stay or (done.is_set() and (seen[-1] if seen else base) < total):
                    try:
                        msg = await recv_json(ws, 0.05)
                    except asyncio.TimeoutError:
                        if done.is_set() and (seen[-1] if seen else base) >= total:
                            break
                        continue
                    expected = (seen[-1] if seen else base) + 1
                    assert msg["offset"] == expected, f"client {k}: got {msg['offset']}, expected {expected}"
                    assert msg["data"] == expected - 1
                    seen.append(msg["offset"])
            if done.is_set() and (seen[-1] if seen else base) >= total:
                return base, seen, recoveries

    async def main():
        done = asyncio.Event()
        async with ws_connect(relay.url("/ws")) as pub:
            tasks = [asyncio.create_task(client(k, done)) for k in range(clients)]
            await asyncio.sleep(0.2)
            await publisher(pub)
            await request(pub, {"op": "ping", "id": "sync"}, 20)
            done.set()
            return await asyncio.gather(*tasks)

    results = run(main(), timeout=150)
    for base, seen, recoveries in results:
        assert seen == list(range(base + 1, total + 1))
    assert sum(r for _, _, r in results) >= clients  # every client recovered at least once
    print(f"{clients} clients, {sum(r for _, _, r in results)} recoveries, all complete")


def test_slow_consumer_closed_with_4008_resumes_from_its_last_offset(relay_factory):
    relay = relay_factory({
        "limits": {"queue_soft_bytes": 65536, "queue_soft_seconds": 1},
        "channels": [{"match": "slow", "history_size": 5000}],
    })
    slow = RawWs(relay.port, "/ws", rcvbuf=4096)
    from harness import encode_client_frame
    slow.sock.sendall(encode_client_frame(0x1, json.dumps(
        {"op": "subscribe", "id": 1, "channel": "slow"}).encode()))
    count = 3000

    async def flood():
        async with ws_connect(relay.url("/ws")) as pub:
            for i in range(count):
                await pub.send(json.dumps({"op": "publish", "channel": "slow",
                                           "data": {"i": i, "pad": "p" * 2000}}))
            await request(pub, {"op": "ping", "id": 1}, 60)
    time.sleep(0.2)
    run(flood(), timeout=120)
    relay.wait_metric("wsrelay_slow_consumer_closes_total", lambda v: v == 1, timeout=30)
    frames, eof = slow.read_until_eof(30)
    slow.close()
    assert eof and close_code_of(frames) in (None, 4008)
    texts = [json.loads(p) for fin, op, p in frames if op == 0x1]
    ack, got = texts[0], texts[1:]
    assert ack["id"] == 1 and ack["offset"] == 0
    offsets = [m["offset"] for m in got]
    assert offsets == list(range(1, len(offsets) + 1)), "gap before the close"
    last = offsets[-1] if offsets else 0
    assert last < count, "the slow consumer got everything: it was never slow"

    async def resume():
        async with ws_connect(relay.url("/ws")) as sub:
            r = await request(sub, {"op": "subscribe", "id": 2, "channel": "slow",
                                    "recover": {"offset": last, "epoch": ack["epoch"]}}, 10)
            assert r["recovered"] is True and r["replayed"] == count - last, r
            rest = await deliveries(sub, count - last, 20)
            assert [m["offset"] for m in rest] == list(range(last + 1, count + 1))
            assert [m["data"]["i"] for m in rest] == list(range(last, count))
    run(resume(), timeout=120)
    print(f"the slow consumer read {last} of {count}, recovered {count - last}")


# --- the history op ------------------------------------------------------------------

def test_history_op_last_n_and_since(relay):
    for i in range(12):
        publish_http(relay, "h.op", json.dumps({"i": i}))
    assert publish_http(relay, "h.op", "plain text", "text/plain") == {"delivered": 0, "offset": 13}
    assert publish_http(relay, "plain", "x", "text/plain") == {"delivered": 0}

    async def main():
        async with ws_connect(relay.url("/ws")) as c:
            r = await request(c, {"op": "history", "id": 1, "channel": "h.op", "limit": 3})
            assert r["ok"] and r["offset"] == 13
            assert r["publications"] == [{"offset": 11, "data": {"i": 10}},
                                         {"offset": 12, "data": {"i": 11}},
                                         {"offset": 13, "text": "plain text"}]
            epoch = r["epoch"]
            r = await request(c, {"op": "history", "id": 2, "channel": "h.op",
                                  "since": {"offset": 9, "epoch": epoch}})
            assert [p["offset"] for p in r["publications"]] == [10, 11, 12, 13]
            r = await request(c, {"op": "history", "id": 3, "channel": "h.op",
                                  "since": {"offset": 0, "epoch": epoch}, "limit": 2})
            assert [p["offset"] for p in r["publications"]] == [1, 2]
            r = await request(c, {"op": "history", "id": 4, "channel": "h.op"})
            assert len(r["publications"]) == 13
            r = await request(c, {"op": "history", "id": 5, "channel": "h.op",
                                  "since": {"offset": 1, "epoch": "deadbeef"}})
            assert r == {"id": 5, "error": {"code": 410, "reason": "epoch_changed"}}
            for i in range(10):
                publish_http(relay, "tiny", str(i))
            t = await request(c, {"op": "history", "id": 6, "channel": "tiny"})
            assert [p["offset"] for p in t["publications"]] == [6, 7, 8, 9, 10]
            r = await request(c, {"op": "history", "id": 7, "channel": "tiny",
                                  "since": {"offset": 2, "epoch": t["epoch"]}})
            assert r == {"id": 7, "error": {"code": 410, "reason": "offset_too_old"}}
    run(main())


def test_history_ttl_drops_old_messages(relay):
    for i in range(3):
        publish_http(relay, "ttl", str(i))

    async def main():
        async with ws_connect(relay.url("/ws")) as c:
            r = await request(c, {"op": "history", "id": 1, "channel": "ttl"})
            assert len(r["publications"]) == 3
            await asyncio.sleep(2.2)
            r = await request(c, {"op": "history", "id": 2, "channel": "ttl"})
            assert r["publications"] == [] and r["offset"] == 3
            ack = await request(c, {"op": "subscribe", "id": 3, "channel": "ttl",
                                    "recover": {"offset": 1, "epoch": r["epoch"]}})
            assert ack["recovered"] is False and ack["reason"] == "offset_too_old"
    run(main())
    relay.wait_metric("wsrelay_history_messages", lambda v: v == 0)


def test_global_byte_bound_evicts_from_the_largest_channel_first(relay_factory):
    relay = relay_factory({"limits": {"max_history_bytes": 10000},
                           "channels": [{"match": "b.*", "history_size": 1000}]})
    for i in range(5):
        publish_http(relay, "b.small", json.dumps("s" * 98))
    for i in range(30):
        publish_http(relay, "b.big", json.dumps(f"{i:03d}" + "x" * 995))

    async def main():
        async with ws_connect(relay.url("/ws")) as c:
            small = await request(c, {"op": "history", "id": 1, "channel": "b.small"})
            big = await request(c, {"op": "history", "id": 2, "channel": "b.big"})
            return small, big
    small, big = run(main())
    assert len(small["publications"]) == 5, "the small channel lost messages first"
    offsets = [p["offset"] for p in big["publications"]]
    assert offsets == list(range(offsets[0], 31)) and offsets[0] > 1
    stored = 5 * 100 + len(offsets) * 1000
    assert stored <= 10000
    assert len(offsets) >= 8  # evicted only what the bound required
    relay.wait_metric("wsrelay_history_bytes", lambda v: 0 < v <= 10000)


# --- presence ------------------------------------------------------------------------

def test_presence_count_list_and_join_leave_events(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as a:
            await request(a, {"op": "subscribe", "id": 1, "channel": "p.room", "presence_events": True})
            r = await request(a, {"op": "presence", "id": 2, "channel": "p.room"})
            assert r["ok"] and r["count"] == 1 and len(r["clients"]) == 1
            me = r["clients"][0]["client"]
            async with ws_connect(relay.url("/ws")) as b:
                await request(b, {"op": "subscribe", "id": 1, "channel": "p.room"})
                join = await recv_json(a)
                assert join["channel"] == "p.room" and set(join) == {"channel", "join"}
                other = join["join"]["client"]
                assert other != me and "user" not in join["join"]
                r = await request(b, {"op": "presence", "id": 3, "channel": "p.room"})
                assert r["count"] == 2 and {c["client"] for c in r["clients"]} == {me, other}
                await expect_silence(b)  # b did not ask for events
                await request(b, {"op": "unsubscribe", "id": 4, "channel": "p.room"})
                assert await recv_json(a) == {"channel": "p.room", "leave": {"client": other}}
                await request(b, {"op": "subscribe", "id": 5, "channel": "p.room"})
                assert (await recv_json(a))["join"]["client"] == other
            # b disconnected
            assert await recv_json(a) == {"channel": "p.room", "leave": {"client": other}}
            r = await request(a, {"op": "presence", "id": 6, "channel": "p.room"})
            assert r["count"] == 1
            # a raw subscriber counts too
            raw = RawWs(relay.port, "/channels/p.room")
            assert (await recv_json(a))["join"]
            r = await request(a, {"op": "presence", "id": 7, "channel": "p.room"})
            assert r["count"] == 2
            raw.close()
            assert (await recv_json(a))["leave"]
            r = await request(a, {"op": "presence", "id": 8, "channel": "h.x"})
            assert r["error"]["code"] == 403
            r = await request(a, {"op": "presence", "id": 9, "channel": "p.empty"})
            assert r == {"id": 9, "ok": True, "count": 0, "clients": []}
    run(main())


def test_presence_of_many_lists_at_most_1000_with_the_exact_count(relay_factory):
    relay = relay_factory({"limits": {"max_connections": 2000},
                           "channels": [{"match": "crowd", "presence": True}]})
    n = 1010
    socks = []
    try:
        for _ in range(n):
            s = RawWs(relay.port, "/channels/crowd")
            socks.append(s)

        async def main():
            async with ws_connect(relay.url("/ws")) as c:
                return await request(c, {"op": "presence", "id": 1, "channel": "crowd"}, 10)
        r = run(main())
        assert r["count"] == n and len(r["clients"]) == 1000
    finally:
        for s in socks:
            s.close()


# --- raw channels --------------------------------------------------------------------

def read_frames(raw, n, timeout=20.0):
    """Reads until n frames arrived (or the timeout); returns them."""
    deadline = time.monotonic() + timeout
    data = raw.buf
    frames = []
    while len(frames) < n and time.monotonic() < deadline:
        frames, rest = decode_server_frames(data)
        if len(frames) >= n:
            break
        raw.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = raw.sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    frames, raw.buf = decode_server_frames(data)
    return frames


def test_raw_history_n_then_live(relay):
    for i in range(8):
        publish_http(relay, "h.raw", f"m{i}", "text/plain")
    raw = RawWs(relay.port, "/channels/h.raw?history=3")
    try:
        assert raw.response.headers["wsrelay-offset"] == "8"
        assert len(raw.response.headers["wsrelay-epoch"]) == 8
        publish_http(relay, "h.raw", b"\x00\x01", "application/octet-stream")
        frames = read_frames(raw, 4)
        assert [(op, p) for _, op, p in frames] == [(1, b"m5"), (1, b"m6"), (1, b"m7"), (2, b"\x00\x01")]
    finally:
        raw.close()
    # more than stored: what there is; a channel without history: live only, no headers
    raw = RawWs(relay.port, "/channels/tiny?history=100")
    plain = RawWs(relay.port, "/channels/plainraw?history=5")
    try:
        assert raw.response.headers["wsrelay-offset"] == "0"
        assert "wsrelay-epoch" not in plain.response.headers
        for i in range(7):
            publish_http(relay, "tiny", f"t{i}", "text/plain")
        assert [p for _, _, p in read_frames(raw, 7)] == [f"t{i}".encode() for i in range(7)]
    finally:
        raw.close()
        plain.close()
    again = RawWs(relay.port, "/channels/tiny?history=100")
    try:
        assert [p for _, _, p in read_frames(again, 5)] == [f"t{i}".encode() for i in range(2, 7)]
    finally:
        again.close()


def test_raw_since_resumes_or_closes_with_4009(relay):
    first = RawWs(relay.port, "/channels/h.since")
    epoch = first.response.headers["wsrelay-epoch"]
    for i in range(4):
        publish_http(relay, "h.since", f"a{i}", "text/plain")
    assert [p for _, _, p in read_frames(first, 4)] == [b"a0", b"a1", b"a2", b"a3"]
    first.close()
    for i in range(4, 9):
        publish_http(relay, "h.since", f"a{i}", "text/plain")
    resumed = RawWs(relay.port, f"/channels/h.since?since=4&epoch={epoch}")
    try:
        assert resumed.response.headers["wsrelay-offset"] == "9"
        publish_http(relay, "h.since", "live", "text/plain")
        assert [p for _, _, p in read_frames(resumed, 6)] == [b"a4", b"a5", b"a6", b"a7", b"a8", b"live"]
    finally:
        resumed.close()
    for query, reason in (("since=1&epoch=0badf00d", b"epoch_changed"),
                          (f"since=99&epoch={epoch}", b"epoch_changed")):
        gone = RawWs(relay.port, f"/channels/h.since?{query}")
        frames, eof = gone.read_until_eof(20)
        gone.close()
        assert close_code_of(frames) == 4009 and frames[-1][2][2:] == reason
    for i in range(10):
        publish_http(relay, "tiny", str(i))
    tiny_epoch = RawWs(relay.port, "/channels/tiny").response.headers["wsrelay-epoch"]
    gone = RawWs(relay.port, f"/channels/tiny?since=1&epoch={tiny_epoch}")
    frames, _ = gone.read_until_eof(20)
    gone.close()
    assert close_code_of(frames) == 4009 and frames[-1][2][2:] == b"offset_too_old"
    gone = RawWs(relay.port, "/channels/plainraw?since=1&epoch=00000001")
    frames, _ = gone.read_until_eof(20)
    gone.close()
    assert close_code_of(frames) == 4009 and frames[-1][2][2:] == b"no_history"
    # malformed queries are refused before the upgrade
    for query in ("history=x", "since=3", "since=-1&epoch=a", "epoch=abc"):
        r = relay.http("GET", f"/channels/h.since?{query}",
                       {"Upgrade": "websocket", "Connection": "Upgrade",
                        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
        assert r.status == 400, (query, r)


def test_presence_members_never_outlive_their_clients_across_reloads(relay_factory):
    on = {"channels": [{"match": "room", "presence": True}]}
    relay = relay_factory(on)

    async def main():
        async with ws_connect(relay.url("/ws")) as a:
            await request(a, {"op": "subscribe", "id": 1, "channel": "room", "presence_events": True})
            async with ws_connect(relay.url("/ws")) as b:
                await request(b, {"op": "subscribe", "id": 1, "channel": "room"})
                assert "join" in await recv_json(a)
                await asyncio.to_thread(relay.reload, {"channels": []})  # presence off
                await request(b, {"op": "unsubscribe", "id": 2, "channel": "room"})
                assert "leave" in await recv_json(a)
            await asyncio.to_thread(relay.reload, on)
            r = await request(a, {"op": "presence", "id": 2, "channel": "room"})
            assert r["count"] == 1 and len(r["clients"]) == 1
    run(main())


def test_a_replay_larger_than_the_queue_limit_is_refused_and_history_pages_catch_up(relay_factory):
    relay = relay_factory({"limits": {"max_queue_bytes": 65536, "queue_soft_bytes": 65536},
                           "channels": [{"match": "big", "history_size": 1000}]})
    for i in range(100):
        publish_http(relay, "big", json.dumps({"i": i, "pad": "x" * 1000}))

    async def main():
        async with ws_connect(relay.url("/ws")) as c:
            top = await request(c, {"op": "history", "id": 1, "channel": "big", "limit": 1})
            epoch = top["epoch"]
            ack = await request(c, {"op": "subscribe", "id": 2, "channel": "big",
                                    "recover": {"offset": 0, "epoch": epoch}})
            assert ack["recovered"] is False and ack["reason"] == "offset_too_old"
            await expect_silence(c)
            # pages of at most half the queue limit, oldest first, until the top
            got, last, pages = [], 0, 0
            while last < 100:
                r = await request(c, {"op": "history", "id": 3, "channel": "big",
                                      "since": {"offset": last, "epoch": epoch}})
                assert 0 < len(r["publications"]) < 40
                got += [p["data"]["i"] for p in r["publications"]]
                last = r["publications"][-1]["offset"]
                pages += 1
            assert got == list(range(100)) and pages >= 3
            # the newest that fit, with limit alone
            r = await request(c, {"op": "history", "id": 4, "channel": "big", "limit": 100})
            assert r["publications"][-1]["offset"] == 100 and len(r["publications"]) < 40
    run(main())
    raw = RawWs(relay.port, f"/channels/big?since=0&epoch={relay_epoch(relay, 'big')}")
    frames, _ = raw.read_until_eof(20)
    raw.close()
    assert close_code_of(frames) == 4009 and frames[-1][2][2:] == b"offset_too_old"
    raw = RawWs(relay.port, "/channels/big?history=100")
    try:
        frames = read_frames(raw, 100, timeout=3)
        assert 0 < len(frames) < 70  # the newest that fit in 64 KiB
        assert json.loads(frames[-1][2])["i"] == 99
    finally:
        raw.close()


def relay_epoch(relay, channel):
    raw = RawWs(relay.port, f"/channels/{channel}")
    try:
        return raw.response.headers["wsrelay-epoch"]
    finally:
        raw.close()
