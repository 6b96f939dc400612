"""Clients coming and going (clean closes, aborts, TCP resets, /ws subscribe/unsubscribe) while a
publisher floods the channel: under ASan+UBSan the server must stay clean, and every gauge must
come back to idle afterwards (no leaked client, subscription or channel)."""

import asyncio
import base64
import contextlib
import json
import random
import socket
import struct

from harness import HOST, run, upgrade_request, ws_connect

DURATION_S = 10
CHURNERS = 16


def test_churn_during_fanout(relay_factory):
    relay = relay_factory({"limits": {"max_queue_bytes": 65536, "queue_soft_bytes": 32768,
                                      "queue_soft_seconds": 1}})
    rng = random.Random(6455)
    url = relay.url("/channels/churn")

    async def flood(stop):
        n = 0
        async with ws_connect(relay.url("/ws")) as pub:
            while not stop.is_set():
                size = rng.choice([10, 1000, 20000])
                await pub.send(json.dumps({"op": "publish", "channel": "churn",
                                           "binary": base64.b64encode(b"x" * size).decode()}))
                n += 1
                if n % 20 == 0:
                    await asyncio.sleep(0)
        return n

    async def abort(ws):
        ws.transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.wait_closed(), 2)

    async def one_cycle(kind):
        pause = rng.random() * 0.05
        if kind == 0:  # raw subscriber, aborted without a close frame
            ws = await ws_connect(url).__aenter__()
            await asyncio.sleep(pause)
            await abort(ws)
        elif kind == 1:  # a reader that never reads, then a TCP reset
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            await asyncio.get_running_loop().sock_connect(s, (HOST, relay.port))
            await asyncio.get_running_loop().sock_sendall(s, upgrade_request(relay.port, "/channels/churn")[0])
            await asyncio.sleep(pause)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        elif kind == 2:  # /ws subscribe, unsubscribe, abort
            ws = await ws_connect(relay.url("/ws")).__aenter__()
            await ws.send(json.dumps({"op": "subscribe", "channel": "churn"}))
            await asyncio.sleep(pause)
            await ws.send(json.dumps({"op": "unsubscribe", "channel": "churn"}))
            await ws.send(json.dumps({"op": "subscribe", "channel": "churn"}))
            await abort(ws)
        else:  # a clean close while deliveries are queued
            ws = await ws_connect(url).__aenter__()
            await asyncio.sleep(pause)
            await ws.close()

    async def churner(stop):
        cycles = 0
        while not stop.is_set():
            try:
                await one_cycle(rng.randrange(4))
            except (OSError, asyncio.TimeoutError) as e:
                raise AssertionError(f"connecting failed during churn: {e!r}") from e
            except Exception:  # websockets errors when the server closes a slow one first
                pass
            cycles += 1
        return cycles

    async def main():
        stop = asyncio.Event()
        tasks = [asyncio.create_task(flood(stop))] + [asyncio.create_task(churner(stop)) for _ in range(CHURNERS)]
        await asyncio.sleep(DURATION_S)
        stop.set()
        published, *cycles = await asyncio.gather(*tasks)
        # Still serving: a fresh pair relays.
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send("after the storm")
            assert await asyncio.wait_for(b.recv(), 5) == "after the storm"
        return published, sum(cycles)

    published, cycles = run(main(), timeout=DURATION_S + 60)
    print(f"{published} messages published during {cycles} connect/disconnect cycles")
    assert published > 100 and cycles > 100
    relay.wait_metric("wsrelay_channels", lambda v: v == 0)
    relay.wait_metric("wsrelay_connections", lambda v: v <= 1)  # the scrape itself
    assert relay.alive()
