"""Pattern subscriptions on /ws (README "Pattern subscriptions"): `chat.*` matches exactly
one segment, `room.>` one or more trailing ones; deliveries name the concrete channel; a
connection matched by an exact name and patterns (or two patterns) gets a message once;
patterns count against max_channels_per_client, refuse `recover`, and are unsubscribed
like channels. Many subscribers and patterns: each gets exactly what the rules say."""

import asyncio
import json
import random

from harness import expect_silence, recv_json, request, run, ws_connect


def matches(pattern, name):
    p, n = pattern.split("."), name.split(".")
    for i, seg in enumerate(p):
        if seg == ">":
            return len(n) > i
        if i >= len(n) or (seg != "*" and seg != n[i]):
            return False
    return len(n) == len(p)


async def sub(ws, channel, id_=1):
    return await request(ws, {"op": "subscribe", "channel": channel, "id": id_})


async def pub(ws, channel, text, id_=0):
    return await request(ws, {"op": "publish", "channel": channel, "text": text, "id": id_})


def test_matching_rules_and_concrete_channel(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as s, ws_connect(relay.url("/ws")) as p:
            assert await sub(s, "chat.*", 1) == {"id": 1, "ok": True}
            assert await sub(s, "room.>", 2) == {"id": 2, "ok": True}
            # Not matched: chat.* is one segment, room.> needs at least one after "room".
            for ch in ["chat.a.b", "chat", "room", "rooms.a", "chatx.a"]:
                assert (await pub(p, ch, "no"))["delivered"] == 0, ch
            # Matched: deliveries name the concrete channel.
            for ch in ["chat.general", "room.a", "room.a.b.c"]:
                assert (await pub(p, ch, ch))["delivered"] == 1, ch
                assert await recv_json(s) == {"channel": ch, "text": ch}
            await expect_silence(s)
    run(main())


def test_matched_twice_delivered_once(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as s, ws_connect(relay.url("/ws")) as p:
            for i, ch in enumerate(["chat.general", "chat.*", "chat.>", "*.general"]):
                assert await sub(s, ch, i) == {"id": i, "ok": True}
            assert (await pub(p, "chat.general", "once"))["delivered"] == 1
            assert await recv_json(s) == {"channel": "chat.general", "text": "once"}
            assert (await pub(p, "chat.other", "again"))["delivered"] == 1
            assert await recv_json(s) == {"channel": "chat.other", "text": "again"}
            await expect_silence(s)
            # Unsubscribing one pattern leaves the others.
            assert await request(s, {"op": "unsubscribe", "channel": "chat.*", "id": 9}) == {"id": 9, "ok": True}
            reply = await request(s, {"op": "unsubscribe", "channel": "chat.*", "id": 10})
            assert reply["error"]["code"] == 412, reply
            assert (await pub(p, "chat.x.y", "deep"))["delivered"] == 1
            assert await recv_json(s) == {"channel": "chat.x.y", "text": "deep"}
    run(main())


def test_pattern_errors_and_limits(relay_factory):
    relay = relay_factory({"limits": {"max_channels_per_client": 3}})

    async def main():
        async with ws_connect(relay.url("/ws")) as s:
            for bad in ["chat*", "room.>.a", "a.b>", "ch at.*"]:
                reply = await sub(s, bad, 1)
                assert reply["error"]["code"] == 422, (bad, reply)
            reply = await request(s, {"op": "subscribe", "channel": "chat.*", "id": 2,
                                      "recover": {"offset": 1, "epoch": "x"}})
            assert reply["error"]["code"] == 400, reply
            assert await sub(s, "chat.*", 3) == {"id": 3, "ok": True}
            assert (await sub(s, "chat.*", 4))["error"]["code"] == 409
            # Publishing to a pattern is not a thing.
            reply = await pub(s, "chat.*", "x", 5)
            assert reply["error"]["code"] == 422, reply
            # Patterns and channels share max_channels_per_client (3).
            assert await sub(s, "a", 6) == {"id": 6, "ok": True}
            assert await sub(s, "b.>", 7) == {"id": 7, "ok": True}
            assert (await sub(s, "c.*", 8))["error"]["code"] == 429
            assert (await sub(s, "c", 9))["error"]["code"] == 429
    run(main())


def test_many_subscribers_and_patterns(relay):
    """60 connections with random exact and pattern subscriptions; 80 publishes: each
    connection receives exactly the messages the rules say, once, in order."""
    rng = random.Random(11)
    segs = ["a", "b", "c"]
    names = [x for x in segs] + [f"{x}.{y}" for x in segs for y in segs] + \
        [f"{x}.{y}.{z}" for x in segs for y in segs for z in segs]
    patterns = [f"{x}.*" for x in segs] + [f"{x}.>" for x in segs] + \
        [f"*.{y}" for y in segs] + [f"{x}.*.{z}" for x in segs for z in segs] + [">", "*", "*.*.*"]

    async def main():
        conns, wants = [], []
        try:
            for _ in range(60):
                conns.append(await ws_connect(relay.url("/ws")).__aenter__())
            for i, ws in enumerate(conns):
                chosen = rng.sample(patterns, 3) + rng.sample(names, 2)
                for j, ch in enumerate(chosen):
                    assert await sub(ws, ch, j) == {"id": j, "ok": True}
                wants.append(chosen)
            p = conns[0]
            sent = []
            for k in range(80):
                ch = rng.choice(names)
                expected = sum(1 for i, w in enumerate(wants) if i != 0 and
                               any(c == ch or ("*" in c or ">" in c) and matches(c, ch) for c in w))
                await p.send(json.dumps({"op": "publish", "channel": ch, "text": str(k)}))
                sent.append((ch, str(k), expected))
            for i, ws in enumerate(conns[1:], start=1):
                want = [{"channel": ch, "text": t} for ch, t, _ in sent
                        if any(c == ch or (("*" in c or ">" in c) and matches(c, ch)) for c in wants[i])]
                got = []
                for _ in range(len(want)):
                    got.append(await recv_json(ws, 10))
                assert got == want, i
            for ws in conns[1:]:
                await expect_silence(ws, 0.02)  # nothing more: no duplicates
        finally:
            for ws in conns:
                await ws.close()
    run(main(), timeout=150)


def test_pattern_and_exact_on_a_channel_with_history_once_with_offset(relay_factory):
    """A channel with history matched by an exact subscription (resumed with `recover`) and
    a pattern on one connection: the replay and then each live message arrive once, in
    offset order."""
    relay = relay_factory({"channels": [{"match": "h.*", "history_size": 100}]})

    async def main():
        async with ws_connect(relay.url("/ws")) as s, ws_connect(relay.url("/ws")) as p:
            ack = await request(s, {"op": "subscribe", "channel": "h.a", "id": 1})
            epoch = ack["epoch"]
            await request(s, {"op": "unsubscribe", "channel": "h.a", "id": 2})
            for i in range(3):
                assert (await pub(p, "h.a", f"m{i}"))["offset"] == i + 1
            assert await sub(s, "h.*", 3) == {"id": 3, "ok": True}
            ack = await request(s, {"op": "subscribe", "channel": "h.a", "id": 4,
                                    "recover": {"offset": 1, "epoch": epoch}})
            assert ack["recovered"] is True and ack["replayed"] == 2, ack
            for i in range(3, 6):
                await pub(p, "h.a", f"m{i}")
            got = [await recv_json(s) for _ in range(5)]
            assert [(m["offset"], m["text"]) for m in got] == [(k + 1, f"m{k}") for k in range(1, 6)]
            assert all(m["channel"] == "h.a" for m in got)
            await expect_silence(s)
    run(main())
