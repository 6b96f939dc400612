"""Fair turns: one or two clients flooding a channel of 500 subscribers with 1-byte messages
as fast as they can do not take the loop from everyone else. A canary on its own channel
keeps a short round trip (publish on one connection -> delivery on another), and the 500
subscribers, which read, are not closed as slow consumers because of the flood (the
flooders are pushed back instead). README "Design" (fair turns, publisher pushback).

The flooders and the 500 readers run in their own processes (this file, run as a script),
so the canary's measurement in the test process does not wait for their Python work.
The bound has a margin for a busy, shared 2-core machine under the sanitizers; the
benchmark (wsrelay-bench canary-flood) reports the figures without it."""

import json
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUBSCRIBERS = 500
SAMPLES = 150
WARMUP_S = 2.0
# The goal is a p99 under 20 ms (Release; wsrelay-bench K1 reports it without a margin).
# The bound is 20x that: ASan+UBSan make the relay 2-3x slower, and on the saturated shared
# 2-core machine (load 8-15, the relay given a fraction of a core) runs here measured p99
# 37 and 233 ms for 1 flooder, 126 ms for 2 (max 880 ms: scheduler stalls), so 60 ms
# flakes. Before fair turns the canary got nothing within 10 s under the sanitizers (this
# test against an ASan build from before the fair-turns merge, branch history at 50f5c2a:
# p50 = p99 = 10,000 ms),
# and 870-965 ms p99 in Release (issue 9; RESULTS.md K1 "before"): the bound fails there.
P99_BOUND_MS = 400.0


# ---- helper processes (python3 test_fair_turns.py reader|flooder ...) --------------------

def reader_main(port, n):
    """n raw subscribers that read and discard; on stdin EOF prints what they got."""
    from harness import RawWs
    conns = [RawWs(port, "/channels/flood") for _ in range(n)]
    sel = selectors.DefaultSelector()
    for c in conns:
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ, c)
    got = 0
    eofs = 0
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"ev": "ready"}), flush=True)
    while not stop.is_set():
        for key, _ in sel.select(0.05):
            try:
                data = key.fileobj.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                eofs += 1
                sel.unregister(key.fileobj)
                continue
            got += len(data)
    print(json.dumps({"ev": "done", "bytes": got, "eofs": eofs}), flush=True)


def flooder_main(port, seconds):
    """Sends 1-byte binary messages on /channels/flood as fast as the relay takes them."""
    from harness import RawWs, encode_client_frame
    ws = RawWs(port, "/channels/flood")
    burst = b"".join(encode_client_frame(0x2, b"x") for _ in range(8192))
    # It is a subscriber of the channel too: it reads (and drops) the other flooder's flood.
    ws.sock.settimeout(None)
    threading.Thread(target=lambda: [None for _ in iter(lambda: ws.sock.recv(1 << 16), b"")],
                     daemon=True).start()
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ws.sock.sendall(burst)
        sent += 8192
    print(json.dumps({"ev": "done", "sent": sent}), flush=True)
    ws.close()


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    if sys.argv[1] == "reader":
        reader_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        flooder_main(int(sys.argv[2]), float(sys.argv[3]))
    sys.exit(0)


# ---- the test -------------------------------------------------------------------------

from harness import RawWs, decode_server_frames  # noqa: E402


def metric(relay, name):
    """One unlabelled sample of /metrics; a generous timeout, as a starved loop answers late."""
    text = relay.http("GET", "/metrics", timeout=60, metrics=True).body.decode()
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def spawn(*args):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def read_event(proc, timeout):
    """The helper's next JSON line, within timeout."""
    out = {}
    t = threading.Thread(target=lambda: out.update(line=proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    assert out.get("line"), f"helper {proc.args[2:]} said nothing in {timeout} s"
    return json.loads(out["line"])


class Canary:
    """Round trips on its own channel: a message from `a` until `b` has it."""

    def __init__(self, port):
        self.a = RawWs(port, "/channels/canary")
        self.b = RawWs(port, "/channels/canary")

    def round_trip_ms(self, seq):
        payload = str(seq).encode()
        start = time.monotonic()
        self.a.send(0x2, payload)
        self.b.sock.settimeout(10.0)
        while True:
            frames, self.b.buf = decode_server_frames(self.b.buf + self.b.sock.recv(4096))
            if any(f[2] == payload for f in frames):
                return (time.monotonic() - start) * 1000.0

    def measure(self, samples, max_s=30.0):
        rtts = []
        end = time.monotonic() + max_s  # bounded when round trips take a second each
        for i in range(samples):
            try:
                rtts.append(self.round_trip_ms(i))
            except socket.timeout:
                rtts.append(10_000.0)  # no delivery in 10 s: the canary is starved
                break
            if time.monotonic() > end:
                break
            time.sleep(0.01)
        rtts.sort()
        return statistics.median(rtts), rtts[int(len(rtts) * 0.99) - 1], rtts[-1]


def test_canary_keeps_its_round_trip_while_one_then_two_clients_flood_500_subscribers(
        relay_factory):
    relay = relay_factory({"limits": {"max_connections": 2000}})
    port = relay.port
    reader = spawn("reader", port, SUBSCRIBERS)
    flooders = []
    try:
        assert read_event(reader, 60)["ev"] == "ready"
        canary = Canary(port)
        idle = canary.measure(50)
        print(f"\ncanary idle: p50 {idle[0]:.2f} ms, p99 {idle[1]:.2f} ms")
        results = {}
        for n in (1, 2):
            received_before = metric(relay, "wsrelay_messages_received_total")
            started = time.monotonic()
            flooders += [spawn("flooder", port, 60) for _ in range(n - len(flooders))]
            time.sleep(WARMUP_S)
            p50, p99, worst = canary.measure(SAMPLES)
            print(f"canary under {n} flooder(s): p50 {p50:.2f} ms, p99 {p99:.2f} ms", flush=True)
            received = metric(relay, "wsrelay_messages_received_total") - received_before
            rate = received / (time.monotonic() - started)
            results[n] = (p50, p99)
            print(f"canary under {n} flooder(s) x {SUBSCRIBERS} subscribers: p50 {p50:.2f} ms, "
                  f"p99 {p99:.2f} ms, max {worst:.2f} ms; flood {rate:,.0f} messages/s "
                  f"({rate * SUBSCRIBERS:,.0f} deliveries/s)")
            # The flood really ran (the relay took tens of thousands of messages a second
            # before this change too), and the canary's round trip stayed short.
            assert received > 1000, f"{n} flooder(s): the flood did not run"
            assert p99 < P99_BOUND_MS, f"{n} flooder(s): canary p99 {p99:.1f} ms (p50 {p50:.1f})"
        for f in flooders:
            f.kill()
            f.wait(10)
        reader.stdin.close()
        summary = read_event(reader, 30)
        print(f"readers: {summary['bytes']:,} bytes, {summary['eofs']} closed")
        assert summary["bytes"] > 0
        # They read: none of them was closed as a slow consumer because of the flood.
        assert summary["eofs"] == 0
        assert metric(relay, "wsrelay_slow_consumer_closes_total") == 0
    finally:
        for p in flooders + [reader]:
            if p.poll() is None:
                p.kill()
            p.wait(10)
