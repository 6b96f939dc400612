"""No loss, order kept. 200 subscribers x 5 publishers x 2,000 messages on one raw
channel, with Node `ws` clients: every subscriber gets every message exactly once, in order per
publisher, type preserved; the publishers get each other's messages too (not their own)."""

import asyncio
import json
import os
import time

from harness import NODE_DIR, NODE_PATH, run

SUBSCRIBERS = 200
SUB_PROCESSES = 2
PUBLISHERS = 5
PER_PUBLISHER = 2000
TIME_BOUND_S = 120


async def node(*args):
    return await asyncio.create_subprocess_exec(
        "node", os.path.join(NODE_DIR, "scale.js"), *map(str, args),
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ, NODE_PATH=NODE_PATH))


async def next_event(proc, timeout):
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    assert line, "scale.js exited early"
    return json.loads(line)


async def event_named(proc, name, timeout):
    deadline = time.monotonic() + timeout
    while True:
        ev = await next_event(proc, max(0.01, deadline - time.monotonic()))
        if ev["ev"] == name:
            return ev


def test_200_subscribers_5_publishers_2000_messages(relay_factory):
    relay = relay_factory({"limits": {"max_connections": 1000}})
    url = relay.url("/channels/scale")
    per_proc = SUBSCRIBERS // SUB_PROCESSES

    async def main():
        procs = []
        try:
            subs = [await node("sub", url, per_proc, PUBLISHERS, PER_PUBLISHER) for _ in range(SUB_PROCESSES)]
            procs += subs
            for p in subs:
                await event_named(p, "ready", 30)
            start = time.monotonic()
            pub = await node("pub", url, PUBLISHERS, PER_PUBLISHER)
            procs.append(pub)
            results = []
            for p in subs + [pub]:
                left = TIME_BOUND_S - (time.monotonic() - start)
                try:
                    results.append(await event_named(p, "done", max(1, left)))
                except asyncio.TimeoutError:
                    p.terminate()  # scale.js prints its partial summary on SIGTERM
                    results.append(await event_named(p, "done", 10))
            return results, time.monotonic() - start
        finally:
            for p in procs:
                if p.returncode is None:
                    try:
                        await asyncio.wait_for(p.wait(), 5)
                    except asyncio.TimeoutError:
                        p.kill()
                        await p.wait()

    results, elapsed = run(main(), timeout=TIME_BOUND_S + 60)
    print(f"fan-out of {PUBLISHERS * PER_PUBLISHER} messages to {SUBSCRIBERS} subscribers: {elapsed:.1f}s")
    for r in results:
        assert r["errors"] == [], r
        assert r["complete"] == r["connections"] and r["closedEarly"] == 0, r
    subs_received = sum(r["received"] for r in results if r["role"] == "sub")
    assert subs_received == SUBSCRIBERS * PUBLISHERS * PER_PUBLISHER
    pub = next(r for r in results if r["role"] == "pub")
    assert pub["received"] == PUBLISHERS * (PUBLISHERS - 1) * PER_PUBLISHER
    relay.wait_metric("wsrelay_messages_published_total", lambda v: v == PUBLISHERS * PER_PUBLISHER,
                      {"source": "ws"})
    relay.wait_metric("wsrelay_messages_delivered_total",
                      lambda v: v == subs_received + pub["received"])
    assert relay.metric("wsrelay_slow_consumer_closes_total") == 0
