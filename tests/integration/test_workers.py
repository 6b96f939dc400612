"""Several event loops in one process (`workers: 2`, README "Scaling"): connections spread
over both (wsrelay_worker_connections), every subscriber gets every message of publishers
on either worker, byte-exact and in each publisher's order, over the raw relay, /ws and
HTTP publish; patterns; SIGHUP and SIGTERM reach every worker; metrics are summed.
Which worker a connection lands on is the kernel's SO_REUSEPORT hash of its address: the
tests open enough connections that both workers get some (checked through the metric)."""

import asyncio
import json
import os
import signal
import struct

import pytest

from harness import expect_silence, recv_json, request, run, ws_connect

TWO = {"workers": 2, "limits": {"drain_timeout_ms": 3000}}


def both_workers_have(relay, minimum=1, timeout=10.0):
    """Waits until each worker holds at least `minimum` connections; returns the counts."""
    for w in ("0", "1"):
        relay.wait_metric("wsrelay_worker_connections", lambda v: v >= minimum,
                          {"worker": w}, timeout=timeout)
    return [relay.metric("wsrelay_worker_connections", {"worker": w}) for w in ("0", "1")]


def payload(pub, seq, size):
    """Publisher id, sequence number and random bytes: byte-exact and order checkable."""
    return struct.pack(">II", pub, seq) + os.urandom(size)


def check_order(received, publishers, count, skip=None):
    """Every publisher's messages (but skip's) arrived, each once, in its order."""
    nxt = [0] * publishers
    for msg in received:
        pub, seq = struct.unpack(">II", msg[:8])
        assert seq == nxt[pub], f"publisher {pub}: got {seq}, expected {nxt[pub]}"
        nxt[pub] += 1
    assert nxt == [0 if p == skip else count for p in range(publishers)]


def test_raw_fan_out_across_workers_byte_exact_in_order(relay_factory):
    relay = relay_factory(TWO)
    subs_n, pubs_n, count = 24, 16, 30

    async def main():
        url = relay.url("/channels/room")
        subs = [await ws_connect(url).__aenter__() for _ in range(subs_n)]
        pubs = [await ws_connect(url).__aenter__() for _ in range(pubs_n)]
        try:
            await asyncio.to_thread(both_workers_have, relay)
            # Summed over the workers: every WebSocket, plus the scrape's own connection.
            await asyncio.to_thread(relay.wait_metric, "wsrelay_connections",
                                    lambda v: v == subs_n + pubs_n + 1)
            await asyncio.sleep(0.3)  # every worker's interest has reached the channel's owner
            sent = {}
            for seq in range(count):
                for p, ws in enumerate(pubs):
                    data = payload(p, seq, 1 + (seq * 37 + p) % 3000)
                    sent[(p, seq)] = data
                    await ws.send(data)
            for s in subs:
                got = [await asyncio.wait_for(s.recv(), 10) for _ in range(pubs_n * count)]
                for m in got:
                    assert isinstance(m, bytes)
                    assert sent[struct.unpack(">II", m[:8])] == m  # byte-exact
                check_order(got, pubs_n, count)
                await expect_silence(s, 0.05)
            # Publishers are subscribers of the raw channel too: each gets every other's
            # messages (no echo of its own), in their order.
            for me, ws in enumerate(pubs):
                got = [await asyncio.wait_for(ws.recv(), 10) for _ in range((pubs_n - 1) * count)]
                assert all(struct.unpack(">II", m[:8])[0] != me for m in got)
                check_order([m for m in got], pubs_n, count, skip=me)
                await expect_silence(ws, 0.05)
        finally:
            for ws in subs + pubs:
                await ws.close()
    run(main(), timeout=150)
    delivered = relay.wait_metric("wsrelay_messages_delivered_total",
                                  lambda v: v >= subs_n * pubs_n * count)
    # Deliveries counted on both workers: publishers are subscribers too (no echo), so the
    # sum is exactly each message to every other connection.
    assert delivered == pubs_n * count * (subs_n + pubs_n - 1)


def test_ws_and_http_publish_reach_raw_and_ws_subscribers_on_both_workers(relay_factory):
    relay = relay_factory(TWO)
    ws_n, raw_n, pubs_n, count, http_count = 12, 12, 8, 20, 20

    async def main():
        subs = [await ws_connect(relay.url("/ws")).__aenter__() for _ in range(ws_n)]
        raws = [await ws_connect(relay.url("/channels/chat")).__aenter__() for _ in range(raw_n)]
        pubs = [await ws_connect(relay.url("/ws")).__aenter__() for _ in range(pubs_n)]
        try:
            for i, s in enumerate(subs):
                assert await request(s, {"op": "subscribe", "channel": "chat", "id": i}) == \
                    {"id": i, "ok": True}
            await asyncio.to_thread(both_workers_have, relay, 2)
            await asyncio.sleep(0.3)
            for seq in range(count):
                for p, ws in enumerate(pubs):
                    reply = await request(ws, {"op": "publish", "channel": "chat",
                                               "text": f"{p}:{seq}:\u00e9\u2713", "id": seq})
                    assert reply["ok"] is True and reply["id"] == seq
                    assert reply["delivered"] >= 1
            for seq in range(http_count):  # one connection each: either worker
                r = await asyncio.to_thread(relay.http, "POST", "/channels/chat",
                                            {"Content-Type": "text/plain"},
                                            f"{pubs_n}:{seq}:http".encode())
                assert r.status == 200, r
            expected = pubs_n * count + http_count
            for s in subs:
                nxt = [0] * (pubs_n + 1)
                for _ in range(expected):
                    m = await recv_json(s, 10)
                    assert m["channel"] == "chat"
                    p, seq, rest = m["text"].split(":")
                    assert int(seq) == nxt[int(p)], m
                    assert rest == ("http" if int(p) == pubs_n else "\u00e9\u2713")
                    nxt[int(p)] += 1
                assert nxt == [count] * pubs_n + [http_count]
            for r in raws:
                nxt = [0] * (pubs_n + 1)
                for _ in range(expected):
                    m = await asyncio.wait_for(r.recv(), 10)
                    p, seq, _ = m.split(":")
                    assert int(seq) == nxt[int(p)]
                    nxt[int(p)] += 1
                assert nxt == [count] * pubs_n + [http_count]
        finally:
            for ws in subs + raws + pubs:
                await ws.close()
    run(main(), timeout=150)


def test_patterns_across_workers(relay_factory):
    relay = relay_factory(TWO)

    async def main():
        subs = [await ws_connect(relay.url("/ws")).__aenter__() for _ in range(12)]
        pubs = [await ws_connect(relay.url("/ws")).__aenter__() for _ in range(8)]
        try:
            for i, s in enumerate(subs):
                assert (await request(s, {"op": "subscribe", "channel": "room.*", "id": i}))["ok"]
            await asyncio.to_thread(both_workers_have, relay, 2)
            await asyncio.sleep(0.3)
            for p, ws in enumerate(pubs):
                for k in range(5):
                    reply = await request(ws, {"op": "publish", "channel": f"room.{k}",
                                               "data": [p, k], "id": k})
                    assert reply["ok"] is True
            for s in subs:
                got = [await recv_json(s, 10) for _ in range(len(pubs) * 5)]
                assert sorted((m["data"][0], m["data"][1]) for m in got) == \
                    [(p, k) for p in range(len(pubs)) for k in range(5)]
                assert all(m["channel"] == f"room.{m['data'][1]}" for m in got)
                await expect_silence(s, 0.05)
        finally:
            for ws in subs + pubs:
                await ws.close()
    run(main(), timeout=120)


def test_sighup_reaches_every_worker_and_sigterm_drains_all(relay_factory):
    relay = relay_factory(TWO)
    assert "2 workers" in relay.log_text()

    async def main():
        relay.reload({**TWO, "limits": {"drain_timeout_ms": 3000, "max_message_bytes": 100}})
        assert relay.metric("wsrelay_config_reloads_total", {"result": "ok"}) == 1
        # The new limit holds on both workers: 16 connections, each closed with 1009.
        conns = [await ws_connect(relay.url("/channels/big")).__aenter__() for _ in range(16)]
        await asyncio.to_thread(both_workers_have, relay)
        for ws in conns:
            await ws.send(b"x" * 200)
        for ws in conns:
            with pytest.raises(Exception):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1009
        # SIGTERM: every worker's WebSockets get 1001, and the process exits 0.
        idle = [await ws_connect(relay.url("/ws")).__aenter__() for _ in range(16)]
        await asyncio.to_thread(both_workers_have, relay)
        relay.send_signal(signal.SIGTERM)
        for ws in idle:
            with pytest.raises(Exception):
                await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 1001
    run(main(), timeout=120)
    assert relay.wait_exit(15) == 0
    assert relay.wait_notify("STOPPING", "1") is not None


def test_history_or_presence_keeps_one_loop(relay_factory):
    relay = relay_factory({"workers": 2, "channels": [{"match": "h.*", "history_size": 10}]})
    assert "one worker instead of 2: channel history ('h.*')" in relay.log_text()
    text = relay.metrics_text()
    assert 'wsrelay_worker_connections{worker="0"}' in text
    assert 'worker="1"' not in text

    async def main():
        async with ws_connect(relay.url("/ws")) as c:
            for i in range(3):
                assert (await request(c, {"op": "publish", "channel": "h.1", "text": str(i),
                                          "id": i}))["offset"] == i + 1
            reply = await request(c, {"op": "history", "channel": "h.1", "id": "h"})
            assert [p["text"] for p in reply["publications"]] == ["0", "1", "2"]
    run(main())


def test_default_workers_from_the_environment_and_printed(relay_factory, tmp_path):
    relay = relay_factory({"limits": {"drain_timeout_ms": 3000}}, env={"WSRELAY_WORKERS": "2"})
    assert "2 workers" in relay.log_text()
    relay.wait_metric("wsrelay_worker_connections", lambda v: v == 0, {"worker": "1"})
    import subprocess
    from harness import wsrelay_bin
    src = tmp_path / "c.json"
    src.write_text(json.dumps({"workers": 3}))
    out = subprocess.run([wsrelay_bin(), "--print-config", str(src)], capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out)["workers"] == 3
    out = subprocess.run([wsrelay_bin(), "--print-config"], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)["workers"] is None  # unset: one loop, or WSRELAY_WORKERS
    src.write_text(json.dumps({"workers": 0}))
    out = subprocess.run([wsrelay_bin(), "--print-config", str(src)], capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out)["workers"] == 0  # 0: the CPU count at start-up
    src.write_text(json.dumps({"workers": 65}))
    p = subprocess.run([wsrelay_bin(), "--check-config", str(src)], capture_output=True,
                       text=True)
    assert p.returncode == 78 and "/workers" in p.stderr


def test_zero_workers_runs_one_per_cpu(relay_factory):
    cpus = min(len(os.sched_getaffinity(0)), 64)
    relay = relay_factory({"workers": 0, "limits": {"drain_timeout_ms": 3000}})
    if cpus > 1:
        assert f"{cpus} workers" in relay.log_text()
        relay.wait_metric("wsrelay_worker_connections", lambda v: v == 0,
                          {"worker": str(cpus - 1)})
    else:
        relay.wait_metric("wsrelay_worker_connections", lambda v: v == 0, {"worker": "0"})
