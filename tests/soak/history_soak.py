#!/usr/bin/env python3
"""History soak (README "History and recovery"): hundreds of /ws clients that drop their
connection every few seconds while publishers run, each resuming with `recover` from the
last offset it saw. Afterwards every client's record must show every message of each of its
channels in order, or an explicit notice (`recovered: false` with its reason) where it
could not: the soak counts silent gaps and duplicates and fails unless both are zero.

Loopback only and bounded: --seconds of publishing (plus a drain of at most 60 s).

    python3 tests/soak/history_soak.py --clients 300 --seconds 180   # the README figures
    python3 tests/soak/history_soak.py --clients 40 --seconds 8       # the ctest smoke

WSRELAY_BIN names the binary (as for the integration tests).
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402


class Record:
    """One client's view of one channel: offsets seen, notices, violations."""

    def __init__(self):
        self.epoch = None
        self.last = None  # the last offset seen (or the position of a notice)
        self.received = 0
        self.notices = 0  # explicit: recovered false
        self.skipped = 0  # messages covered by those notices
        self.silent_gaps = 0
        self.duplicates = 0
        self.recovered = 0


async def client(port, channels, rnd, done, stats):
    """Connects, subscribes (recovering after the first time), reads for 1 to 5 s, drops;
    once `done` (every publisher finished) it stays until it has seen each channel's top."""
    records = {ch: Record() for ch in channels}
    while True:
        final = done.is_set()
        try:
            async with harness.ws_connect(f"ws://{harness.HOST}:{port}/ws", open_timeout=20) as ws:
                pending = {}
                for i, ch in enumerate(channels):
                    req = {"op": "subscribe", "id": i, "channel": ch}
                    r = records[ch]
                    if r.epoch is not None:
                        req["recover"] = {"offset": r.last, "epoch": r.epoch}
                    pending[i] = ch
                    await ws.send(json.dumps(req))
                stay = time.monotonic() + rnd.uniform(1.0, 5.0)
                while True:
                    if not final and time.monotonic() > stay:
                        break
                    if final and not pending and all(
                            records[ch].last is not None and records[ch].last >= stats["top"][ch]
                            for ch in channels):
                        return records
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except asyncio.TimeoutError:
                        continue
                    if "id" in msg:
                        ch = pending.pop(msg["id"])
                        r = records[ch]
                        assert msg.get("ok"), msg
                        if r.epoch is None:
                            r.epoch, r.last = msg["epoch"], msg["offset"]
                        elif msg.get("recovered"):
                            r.recovered += 1
                        else:
                            # An explicit notice: the client knows it missed these.
                            r.notices += 1
                            r.skipped += msg["offset"] - r.last
                            r.epoch, r.last = msg["epoch"], msg["offset"]
                        continue
                    r = records[msg["channel"]]
                    off = msg["offset"]
                    if off <= r.last:
                        r.duplicates += 1
                    elif off != r.last + 1:
                        r.silent_gaps += 1
                    if msg["data"] != off:
                        r.silent_gaps += 1  # a message that is not the one at that offset
                    r.last = max(r.last, off)
                    r.received += 1
        except (OSError, asyncio.TimeoutError, harness_closed()) as e:
            stats["errors"] += 1
            stats["last_error"] = repr(e)
        # Offline for a moment; now and then longer than the history covers (--history
        # messages at --rate), so the explicit notice path runs too.
        await asyncio.sleep(rnd.uniform(2.0, 4.0) if rnd.random() < 0.05 else rnd.uniform(0.0, 0.5))


def harness_closed():
    import websockets
    return websockets.ConnectionClosed


async def publisher(port, channel, rate, stop, stats):
    async with harness.ws_connect(f"ws://{harness.HOST}:{port}/ws") as ws:
        n = 0
        start = time.monotonic()
        while not stop.is_set():
            n += 1
            # data = the offset it will get: one publisher per channel, nobody else publishes
            await ws.send(json.dumps({"op": "publish", "channel": channel, "data": n}))
            stats["top"][channel] = n
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        r = await harness.request(ws, {"op": "ping", "id": "end"}, 30)
        assert r.get("ok")


async def soak(port, args):
    channels = [f"soak.{i}" for i in range(args.channels)]
    stop = asyncio.Event()
    done = asyncio.Event()
    stats = {"top": {ch: 0 for ch in channels}, "errors": 0, "last_error": ""}
    clients = []
    for k in range(args.clients):
        rnd = random.Random(k)
        mine = rnd.sample(channels, min(2, len(channels)))
        clients.append(asyncio.create_task(client(port, mine, rnd, done, stats)))
        if k % 20 == 19:
            await asyncio.sleep(0.05)  # spread the first connects
    pubs = [asyncio.create_task(publisher(port, ch, args.rate, stop, stats)) for ch in channels]
    await asyncio.sleep(args.seconds)
    stop.set()
    await asyncio.gather(*pubs)
    done.set()
    results = await asyncio.wait_for(asyncio.gather(*clients), 60 + args.clients * 0.05)
    return channels, stats, results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=300)
    p.add_argument("--channels", type=int, default=4)
    p.add_argument("--rate", type=float, default=50.0, help="messages/s per channel")
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--history", type=int, default=100, help="history_size of the channels")
    args = p.parse_args()
    relay = harness.Relay({
        "limits": {"max_connections": args.clients + 100},
        "channels": [{"match": "soak.*", "history_size": args.history}],
    })
    relay.start()
    t0 = time.monotonic()
    try:
        channels, stats, results = asyncio.run(soak(relay.port, args))
        cpu = relay.metric("process_cpu_seconds_total")
        recoveries = {res: relay.metric("wsrelay_recoveries_total", {"result": res}) or 0
                      for res in ("recovered", "epoch_changed", "offset_too_old")}
    finally:
        report = relay.stop()
    elapsed = time.monotonic() - t0
    records = [r for res in results for r in res.values()]
    total = {
        "clients": args.clients,
        "channels": len(channels),
        "published": sum(stats["top"].values()),
        "seconds": round(elapsed, 1),
        "received": sum(r.received for r in records),
        "recovered": sum(r.recovered for r in records),
        "notices": sum(r.notices for r in records),
        "skipped_with_notice": sum(r.skipped for r in records),
        "silent_gaps": sum(r.silent_gaps for r in records),
        "duplicates": sum(r.duplicates for r in records),
        "incomplete": sum(1 for res in results for ch, r in res.items() if r.last != stats["top"][ch]),
        "connection_errors": stats["errors"],
        "relay_recoveries": recoveries,
        "relay_cpu_seconds": cpu,
    }
    print(json.dumps(total))
    ok = (total["silent_gaps"] == 0 and total["duplicates"] == 0 and total["incomplete"] == 0
          and total["recovered"] > 0 and not report)
    if report:
        print(report, file=sys.stderr)
    if not report:
        relay.cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
