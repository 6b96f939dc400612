"""Every socket counts (README "Connections and descriptors"): `limits.max_connections`
covers every accepted socket on the public listener, idle plain TCP included, and beyond it
the relay answers 503 and closes; out of descriptors it still answers (a descriptor held in
reserve, a headroom kept for the metrics listener) and /metrics keeps working; both are
counted in wsrelay_connections_refused_total{cause}. Also the strict request line: another
HTTP version than 1.0/1.1 is 505, a bare LF line end is 400."""

import asyncio
import contextlib
import os
import resource
import socket
import time

import pytest
import websockets

from harness import HOST, read_http_response, run, ws_connect

REFUSED = "wsrelay_connections_refused_total"


def idle_sockets(port, n):
    """n plain TCP connections that send nothing."""
    return [socket.create_connection((HOST, port), timeout=5) for _ in range(n)]


def answer_of(port, request=b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5.0):
    """The status a new connection gets, or "closed" when the relay closes it unanswered.
    A hang fails the test (the read is bounded)."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        with contextlib.suppress(OSError):
            s.sendall(request)
        try:
            return read_http_response(s, timeout)
        except (ConnectionError, ConnectionResetError):
            return "closed"


async def ws_works(relay, deadline_s=10.0):
    """A WebSocket client gets in and its message comes back (bounded retries: closes on
    the relay's side are asynchronous)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            async with ws_connect(relay.url("/channels/back")) as a, \
                    ws_connect(relay.url("/channels/back")) as b:
                await a.send("back")
                assert await asyncio.wait_for(b.recv(), 5) == "back"
                return
        except (websockets.InvalidStatusCode, OSError, asyncio.TimeoutError):
            assert time.monotonic() < deadline, "no WebSocket client got in again"
            await asyncio.sleep(0.2)


def test_max_connections_counts_plain_tcp(relay_factory):
    relay = relay_factory({"limits": {"max_connections": 50, "handshake_timeout_ms": 60000}})
    held = idle_sockets(relay.port, 50)
    try:
        relay.wait_metric("wsrelay_connections", lambda v: v >= 50)
        r = answer_of(relay.port)
        assert r != "closed" and r.status == 503, r
        assert r.headers.get("retry-after") == "1" and r.headers.get("connection") == "close", r
        # A WebSocket upgrade is refused the same way, before its request is read.
        async def refused():
            with pytest.raises(websockets.InvalidStatusCode) as e:
                async with ws_connect(relay.url("/channels/back")):
                    pass
            assert e.value.status_code == 503
        run(refused())
        relay.wait_metric(REFUSED, lambda v: v >= 2, {"cause": "max_connections"})
        for s in held[:5]:
            s.close()
        del held[:5]
        run(ws_works(relay))
    finally:
        for s in held:
            s.close()


def test_descriptors_exhausted(relay_factory):
    relay = relay_factory({"limits": {"handshake_timeout_ms": 60000}})
    nofile = 64
    resource.prlimit(relay.pid, resource.RLIMIT_NOFILE, (nofile, nofile))
    held = []
    try:
        # More idle connections than descriptors: the first ones are held, the rest are
        # answered 503 (or closed) at once, none is left hanging.
        held = idle_sockets(relay.port, nofile + 16)
        relay.wait_metric(REFUSED, lambda v: v >= 16, {"cause": "fd_limit"})
        r = answer_of(relay.port)
        assert r == "closed" or r.status == 503, r
        # /metrics answers: the public listener left it a headroom.
        text = relay.metrics_text()
        assert "wsrelay_connections" in text

        # No descriptor left at all: the soft limit below the descriptors open now. The
        # relay answers through its reserved descriptor, on both listeners.
        before = relay.metric(REFUSED, {"cause": "fd_limit"})
        time.sleep(0.3)  # the metrics connection above is closed on the relay's side
        in_use = len(os.listdir(f"/proc/{relay.pid}/fd"))
        resource.prlimit(relay.pid, resource.RLIMIT_NOFILE, (in_use - 4, nofile))
        r = answer_of(relay.port)
        assert r == "closed" or r.status == 503, r
        r = answer_of(relay.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r == "closed" or r.status == 503, r  # answered, not left in the backlog
        resource.prlimit(relay.pid, resource.RLIMIT_NOFILE, (nofile, nofile))
        relay.wait_metric(REFUSED, lambda v: v > before, {"cause": "fd_limit"})
        assert "out of descriptors" in relay.log_text()

        for s in held:
            s.close()
        held = []
        run(ws_works(relay))
        assert relay.alive()
    finally:
        for s in held:
            s.close()


def test_metrics_listener_own_cap(relay):
    """16 idle connections on the metrics listener take its slots; the 17th gets 503,
    and the public listener is unaffected."""
    held = idle_sockets(relay.metrics_port, 16)
    try:
        time.sleep(0.3)  # accepted by the relay
        r = answer_of(relay.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r != "closed" and r.status == 503, r
        assert answer_of(relay.port).status == 200
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while answer_of(relay.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("request_line,status", [
    (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET /healthz HTTP/0.9\r\n\r\n", 505),
    (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: x\nAccept: */*\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n", 200),
])
def test_strict_request_head(relay, request_line, status):
    r = answer_of(relay.port, request_line)
    assert r != "closed" and r.status == status, r
    if status != 200:
        assert r.headers.get("connection") == "close", r
