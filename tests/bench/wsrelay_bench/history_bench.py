#!/usr/bin/env python3
"""History figures for README "Performance" and tests/bench/RESULTS.md, in one run:

  F2 off / F2 on  wsrelay-bench F2 (100 channels x 10 subscribers, 10,000 msg/s, 256 B)
                  against a relay without history, then one with history_size 100 on
                  every f2-* channel: relay CPU per delivery and latency p99, side by side
  memory          100 channels x 1,000 stored messages of 64 B: relay RSS growth per
                  stored message (wsrelay_history_messages says how many are stored)
  storm           1,000 /ws clients, connected first, all subscribe at once with
                  `recover` from offset 0 of a channel holding 100 messages: time until
                  every client has its 100 (client-bound: one Python process) and the
                  relay's CPU time for it

Loopback only; the relay runs on core 0 and the load on core 1 when taskset exists.
Prints one JSON line per figure.

    python3 tests/bench/wsrelay_bench/history_bench.py --build build-rel
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

TASKSET = shutil.which("taskset")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Relay:
    def __init__(self, binary, channels=(), limits=None):
        self.port, self.metrics_port = free_port(), free_port()
        self.dir = tempfile.mkdtemp(prefix="wsrelay-hb-")
        cfg = {"listen": f"127.0.0.1:{self.port}", "metrics_listen": f"127.0.0.1:{self.metrics_port}",
               "log_level": "warn", "demo": False,
               "limits": dict({"max_connections": 30000}, **(limits or {})),
               "channels": list(channels)}
        path = os.path.join(self.dir, "relay.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        argv = ([TASKSET, "-c", "0"] if TASKSET else []) + [binary, "--config", path]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("relay did not start")

    def metric(self, name):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)
        shutil.rmtree(self.dir, ignore_errors=True)


def f2(bench, binary, label, channels, args):
    relay = Relay(binary, channels)
    try:
        argv = ([TASKSET, "-c", "1"] if TASKSET else []) + [
            bench, "F2", "--port", str(relay.port), "--relay-pid", str(relay.proc.pid), "--label", label,
            "--duration", str(args.duration), "--warmup", "1"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        line = json.loads(out.stdout.strip().splitlines()[-1])
        return {"figure": "F2", "history": label, "ok": line.get("ok"),
                "deliveries_per_s": line.get("deliveries_per_s"),
                "relay_cpu_ns_per_delivery": line.get("relay_cpu_ns_per_delivery"),
                "p50_us": line["latency_us"]["p50"], "p99_us": line["latency_us"]["p99"],
                "noisy": line.get("noisy"), "stored": relay.metric("wsrelay_history_messages")}
    finally:
        relay.stop()


async def fill(port, channels, per_channel, size):
    async def one(c):
        async with websockets.connect(f"ws://127.0.0.1:{port}/channels/mem.{c}", compression=None,
                                      ping_interval=None, max_size=None) as ws:
            payload = b"m" * size
            for _ in range(per_channel):
                await ws.send(payload)
    await asyncio.gather(*(one(c) for c in range(channels)))


def memory(binary, args):
    n_ch, per, size = 100, 1000, 64
    relay = Relay(binary, [{"match": "mem.*", "history_size": per}], {"max_history_bytes": 1 << 30})
    try:
        time.sleep(0.3)
        before = rss_bytes(relay.proc.pid)
        asyncio.run(fill(relay.port, n_ch, per, size))
        deadline = time.monotonic() + 30
        while relay.metric("wsrelay_history_messages") != n_ch * per and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        stored = relay.metric("wsrelay_history_messages")
        after = rss_bytes(relay.proc.pid)
        per_msg = (after - before) / stored
        return {"figure": "memory", "stored": int(stored), "payload_bytes": size,
                "rss_growth_bytes": after - before, "bytes_per_stored_message": round(per_msg, 1),
                "overhead_bytes_per_message": round(per_msg - size, 1)}
    finally:
        relay.stop()


async def storm_clients(port, n, replay):
    url = f"ws://127.0.0.1:{port}/ws"
    conns = []
    for i in range(0, n, 100):  # connect first, in batches
        conns += await asyncio.gather(*(websockets.connect(url, compression=None, ping_interval=None,
                                                           max_size=None, open_timeout=30)
                                        for _ in range(min(100, n - i))))
    async with websockets.connect(url, compression=None) as pub:
        for i in range(replay):
            await pub.send(json.dumps({"op": "publish", "channel": "storm", "data": {"i": i, "pad": "x" * 200}}))
        await pub.send(json.dumps({"op": "history", "id": 1, "channel": "storm", "limit": 1}))
        epoch = json.loads(await pub.recv())["epoch"]
    return conns, epoch


async def storm_run(conns, epoch, replay):
    req = json.dumps({"op": "subscribe", "id": 1, "channel": "storm", "recover": {"offset": 0, "epoch": epoch}})

    async def one(ws):
        await ws.send(req)
        ack = json.loads(await ws.recv())
        assert ack.get("recovered") is True and ack["replayed"] == replay, ack
        last = None
        for _ in range(replay):
            last = await ws.recv()
        assert json.loads(last)["offset"] == replay
    await asyncio.gather(*(one(ws) for ws in conns))


def storm(binary, args):
    n, replay = 1000, 100
    relay = Relay(binary, [{"match": "storm", "history_size": replay}])
    async def measured():
        conns, epoch = await storm_clients(relay.port, n, replay)
        cpu0, t0 = cpu_seconds(relay.proc.pid), time.monotonic()
        await storm_run(conns, epoch, replay)
        result = time.monotonic() - t0, cpu_seconds(relay.proc.pid) - cpu0
        await asyncio.gather(*(ws.close() for ws in conns))
        return result

    try:
        elapsed, cpu = asyncio.run(measured())
        return {"figure": "recovery_storm", "clients": n, "replayed_each": replay,
                "messages_replayed": n * replay, "seconds_to_finish": round(elapsed, 2),
                "relay_cpu_s": round(cpu, 3),
                "relay_cpu_us_per_replayed_message": round(cpu * 1e6 / (n * replay), 2)}
    finally:
        relay.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build-rel")
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--only", default="f2,memory,storm", help="which figures (comma-separated)")
    args = p.parse_args()
    only = set(args.only.split(","))
    binary = os.path.join(args.build, "daemon", "wsrelay")
    bench = os.path.join(args.build, "tests", "bench", "wsrelay-bench")
    figures = []
    if "f2" in only:
        figures += [lambda: f2(bench, binary, "off", [], args),
                    lambda: f2(bench, binary, "on", [{"match": "f2-*", "history_size": 100}], args)]
    if "memory" in only:
        figures.append(lambda: memory(binary, args))
    if "storm" in only:
        figures.append(lambda: storm(binary, args))
    for fig in figures:
        print(json.dumps(fig()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
