"""Memory you can state (README "Memory bounds"): 2,000 subscribers that never read, on
the channel of a ~10 MiB/s publisher, cost the well-behaved subscribers on that channel
nothing (every message, in order), are closed (4008 or reset), and the relay's RSS and the
kernel's TCP memory stay under the README's bound for the config; a /ws client that
pipelines requests and never reads its replies is closed with 4008 at its queue limit."""

import asyncio
import fcntl
import json
import resource
import socket
import struct
import termios
import time

from harness import (HOST, NodePeer, RawWs, encode_client_frame, run, upgrade_request,
                     ws_connect)

KIB = 1024
MIB = 1024 * 1024
PAGE = 4096

BAD = 2000  # subscribers that never read
MSG = 64 * KIB
RATE = 10 * MIB  # bytes per second from the publisher
COUNT = 400  # 25 MiB: about 2.5 s at RATE
WINDOW = 32  # messages the publisher may be ahead of the good subscribers (2 MiB)

# The config under test, and the README's worst case for it.
LIMITS = {"max_queue_bytes": 8 * MIB, "queue_soft_bytes": 1 * MIB, "queue_soft_seconds": 10,
          "max_total_queue_bytes": 64 * MIB, "socket_send_buffer": 64 * KIB}
# README: RSS <= start + max_total_queue_bytes + connections x fixed cost. The fixed cost of an
# idle WebSocket connection is about 1 KiB (Client, WsSession, a ring of up to 4 KiB once it
# held more than 256 frames); 16 KiB each leaves room for the sanitizers' redzones.
FIXED_PER_CONNECTION = 16 * KIB
SLACK = 48 * MIB  # the allocator, ASan's quarantine (limited below) and shadow pages
# README: kernel <= connections x (2 x socket_send_buffer + the peer's receive buffer), plus
# the well-behaved clients' autotuned buffers (tcp_wmem/tcp_rmem max: 4 + 6 MiB each side).
GOOD_KERNEL = 4 * (2 * (4 + 6) * MIB)
OTHER_KERNEL = 64 * MIB  # /proc/net/sockstat counts the whole network namespace


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft >= need, f"RLIMIT_NOFILE {soft} < {need}"


def tcp_mem_bytes():
    """The kernel's TCP memory (/proc/net/sockstat 'TCP: ... mem N', in pages)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * PAGE
    raise AssertionError("no TCP line in /proc/net/sockstat")


def unread_bytes(sock):
    """Bytes waiting in the socket's receive buffer (FIONREAD): looked at, never read."""
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def open_idle_readers(port, path, n):
    """n upgraded connections with a tiny receive buffer that never call recv()."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.settimeout(5)
        s.connect((HOST, port))
        req, _ = upgrade_request(port, path)
        s.sendall(req)
        socks.append(s)
    deadline = time.monotonic() + 30
    for s in socks:  # every 101 arrived: all of them are subscribed
        while unread_bytes(s) == 0:
            assert time.monotonic() < deadline, "an idle reader's upgrade was not answered"
            time.sleep(0.01)
    return socks


def test_idle_readers_cost_good_subscribers_nothing(relay_factory):
    raise_fd_limit(BAD + 200)
    relay = relay_factory({"limits": LIMITS},
                          env={"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"})
    path = "/channels/flood"
    url = relay.url(path)
    rss_start = relay.rss_kb() * KIB
    kernel_start = tcp_mem_bytes()
    bad = open_idle_readers(relay.port, path, BAD)

    async def main():
        node = await NodePeer.connect(url)
        async with ws_connect(url) as good, ws_connect(url) as pub:
            await asyncio.sleep(0.3)
            peaks = {"rss": relay.rss_kb() * KIB, "kernel": tcp_mem_bytes()}

            async def sample():
                while True:
                    peaks["rss"] = max(peaks["rss"], relay.rss_kb() * KIB)
                    peaks["kernel"] = max(peaks["kernel"], tcp_mem_bytes())
                    await asyncio.sleep(0.05)

            # Paced at RATE, and never more than WINDOW messages ahead of the good
            # subscribers: this process reads, publishes and samples on one busy core, and
            # its own lag must not make a good subscriber look slow to the relay.
            progress = {"python": 0, "node": 0}
            moved = asyncio.Event()

            async def publish():
                start = time.monotonic()
                for seq in range(COUNT):
                    while seq - min(progress.values()) > WINDOW:
                        moved.clear()
                        await asyncio.wait_for(moved.wait(), 30)
                    await pub.send(struct.pack("!I", seq) + bytes([seq & 0xFF]) * (MSG - 4))
                    ahead = start + (seq + 1) * MSG / RATE - time.monotonic()
                    if ahead > 0:
                        await asyncio.sleep(ahead)

            async def receive(name, recv):
                for seq in range(COUNT):
                    msg = await recv()
                    assert isinstance(msg, bytes) and len(msg) == MSG, f"{name}: message {seq}"
                    assert struct.unpack("!I", msg[:4])[0] == seq, f"{name}: out of order at {seq}"
                    progress[name] = seq + 1
                    moved.set()
                return name

            sampler = asyncio.create_task(sample())
            started = time.monotonic()
            done = await asyncio.gather(
                publish(), receive("python", lambda: asyncio.wait_for(good.recv(), 30)),
                receive("node", lambda: node.recv(30)))
            took = time.monotonic() - started
            sampler.cancel()
            await node.close()
            return done[1:], took, peaks

    (got, took, peaks) = run(main(), timeout=120)
    assert got == ["python", "node"]
    print(f"{COUNT} x {MSG >> 10} KiB in {took:.1f}s to 2 good subscribers next to {BAD} idle readers")

    # Every idle reader was closed (its own limit, or evicted for the budget), no good one.
    relay.wait_metric("wsrelay_slow_consumer_closes_total", lambda v: v >= BAD, timeout=30)
    closes = relay.metric("wsrelay_slow_consumer_closes_total")
    evictions = relay.metric("wsrelay_queue_evictions_total")
    print(f"slow-consumer closes {closes:.0f}, of which evictions {evictions:.0f}")
    assert closes == BAD, f"{closes} slow-consumer closes for {BAD} idle readers"
    for s in bad:
        s.close()

    connections = BAD + 3
    rss_bound = LIMITS["max_total_queue_bytes"] + connections * FIXED_PER_CONNECTION + SLACK
    kernel_bound = (connections * (2 * LIMITS["socket_send_buffer"] + 2 * 4608) + GOOD_KERNEL +
                    OTHER_KERNEL)
    rss_growth = peaks["rss"] - rss_start
    kernel_growth = peaks["kernel"] - kernel_start
    print(f"relay RSS +{rss_growth / MIB:.1f} MiB (bound {rss_bound / MIB:.0f}), "
          f"kernel TCP memory +{kernel_growth / MIB:.1f} MiB (bound {kernel_bound / MIB:.0f})")
    assert rss_growth < rss_bound
    assert kernel_growth < kernel_bound
    assert relay.alive()


def test_ws_client_that_never_reads_replies_is_closed_at_the_limit(relay_factory):
    relay = relay_factory({"limits": {"max_queue_bytes": 256 * KIB, "queue_soft_bytes": 128 * KIB,
                                      "queue_soft_seconds": 60}},
                          env={"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"})
    rss_start = relay.rss_kb() * KIB
    client = RawWs(relay.port, "/ws", rcvbuf=2048)
    # Publishes with ids to a channel nobody reads: each one is answered with an ack.
    batch = b"".join(
        encode_client_frame(0x1, json.dumps({"op": "publish", "channel": "void", "data": i,
                                             "id": i}).encode())
        for i in range(1000))
    sent = 0
    rss_peak = rss_start
    client.sock.settimeout(2)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and sent < 400_000:
            client.sock.sendall(batch)
            sent += 1000
            if sent % 20_000 == 0:
                rss_peak = max(rss_peak, relay.rss_kb() * KIB)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass  # closed by the relay, or it stopped reading us
    rss_peak = max(rss_peak, relay.rss_kb() * KIB)
    relay.wait_metric("wsrelay_slow_consumer_closes_total", lambda v: v == 1, timeout=10)
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v == 1, {"code": "4008"},
                      timeout=10)
    client.close()
    growth = rss_peak - rss_start
    print(f"{sent} requests sent before the close; RSS +{growth / MIB:.1f} MiB")
    # Without the reply check the replies to 400,000 requests (over 40 MiB) pile up.
    assert growth < 32 * MIB
    assert relay.alive()


def test_global_budget_evicts_the_largest_queues_first(relay_factory):
    # Distinct frames per reader (one channel each), so the budget, which counts a frame
    # once however many queues share it, fills up; each reader's own limit stays far away.
    budget = 4 * MIB
    relay = relay_factory({"limits": {"max_total_queue_bytes": budget,
                                      "socket_send_buffer": 16 * KIB}})
    readers = 20
    idle = [open_idle_readers(relay.port, f"/channels/e{i}", 1)[0] for i in range(readers)]
    body = bytes(MSG)
    octets = {"Content-Type": "application/octet-stream"}

    async def main():
        async with ws_connect(relay.url("/channels/good")) as good:
            await asyncio.sleep(0.2)
            for round_ in range(10):  # 20 x 10 x 64 KiB = 12.5 MiB queued, 3 x the budget
                for i in range(readers):
                    r = await asyncio.to_thread(relay.http, "POST", f"/channels/e{i}", octets, body)
                    assert r.status == 200, r
                r = await asyncio.to_thread(relay.http, "POST", "/channels/good", octets,
                                            struct.pack("!I", round_) + body[4:])
                assert r.status == 200 and r.json()["delivered"] == 1, r
                msg = await asyncio.wait_for(good.recv(), 10)
                assert struct.unpack("!I", msg[:4])[0] == round_
    run(main(), timeout=90)

    evictions = relay.metric("wsrelay_queue_evictions_total")
    queued = relay.metric("wsrelay_queued_bytes")
    print(f"evictions {evictions:.0f} of {readers} readers; queued now {queued / MIB:.2f} MiB "
          f"(budget {budget / MIB:.0f} MiB)")
    assert evictions >= readers // 2, "the budget was not enforced"
    assert evictions <= readers, "a client that reads was evicted"
    assert queued <= budget
    assert relay.metric("wsrelay_slow_consumer_closes_total") == evictions
    for s in idle:
        s.close()
    assert relay.alive()
