"""SIGTERM drain (close 1001 to every client, exit 0 within the drain
timeout), SIGHUP reload (a limit changes live; a bad file keeps the old config), the sd_notify
sequence on a test-owned NOTIFY_SOCKET, and the Prometheus metrics on the metrics listener."""

import asyncio
import json
import re
import signal
import socket
import subprocess
import time

import pytest
import websockets

from harness import (NodePeer, RawWs, close_code_of, free_port, metric_names, parse_metrics,
                     request, run, ws_connect, wsrelay_bin)

README_METRICS = [
    "wsrelay_connections",
    "wsrelay_connections_accepted_total",
    "wsrelay_connections_closed_total",
    "wsrelay_handshake_failures_total",
    "wsrelay_messages_received_total",
    "wsrelay_bytes_received_total",
    "wsrelay_messages_published_total",
    "wsrelay_messages_delivered_total",
    "wsrelay_bytes_delivered_total",
    "wsrelay_slow_consumer_closes_total",
    "wsrelay_connections_refused_total",
    "wsrelay_channels",
    "wsrelay_publish_to_write_seconds",
    "wsrelay_config_reloads_total",
    "wsrelay_queued_bytes",
    "wsrelay_queue_evictions_total",
    "wsrelay_publisher_pushbacks_total",
    "wsrelay_history_messages",
    "wsrelay_history_bytes",
    "wsrelay_recoveries_total",
    "wsrelay_broker_up",
    "wsrelay_broker_reconnects_total",
    "wsrelay_broker_publish_seconds",
    "wsrelay_broker_messages_total",
    "wsrelay_worker_connections",
]


async def closed_code(ws, timeout):
    """Waits for the server to close ws (reading whatever comes first); returns the code."""
    deadline = time.monotonic() + timeout
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    return ws.close_code


# --- SIGTERM -----------------------------------------------------------------------------------

def test_sigterm_every_client_gets_1001_and_exit_0(relay_factory):
    drain_s = 5
    relay = relay_factory({"limits": {"drain_timeout_ms": drain_s * 1000}})

    async def main():
        py = [await ws_connect(relay.url(p)).__aenter__()
              for p in ["/channels/a", "/channels/a", "/channels/b", "/ws"]]
        await request(py[3], {"op": "subscribe", "channel": "a", "id": 1})
        nodes = [await NodePeer.connect(relay.url(p)) for p in ["/channels/a", "/channels/c"]]
        mark = relay.notify_count()
        start = time.monotonic()
        relay.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*[closed_code(ws, drain_s + 2) for ws in py],
                                     *[n.expect_close(drain_s + 2) for n in nodes])
        for n in nodes:
            await n.finish()
        status = await asyncio.to_thread(relay.wait_exit, drain_s + 2)
        return codes, status, time.monotonic() - start, mark

    codes, status, took, mark = run(main())
    assert codes[:4] == [1001] * 4, codes
    assert [c[0] for c in codes[4:]] == [1001, 1001], codes
    assert status == 0
    assert took < 5 + 2, f"exit {took:.1f}s after SIGTERM"
    relay.wait_notify("STOPPING", "1", after=mark, timeout=1)


def test_sigterm_unresponsive_client_readyz_503_then_exit_0(relay_factory):
    relay = relay_factory({"limits": {"drain_timeout_ms": 2000}})
    stuck = RawWs(relay.port, "/channels/stuck")  # never answers the close
    assert relay.http("GET", "/readyz").status == 200
    start = time.monotonic()
    relay.send_signal(signal.SIGTERM)
    relay.wait_notify("STOPPING", "1", timeout=2)
    # During the drain /readyz says 503, unless the listener is already closed.
    observed = None
    try:
        observed = relay.http("GET", "/readyz", timeout=1).status
    except (ConnectionRefusedError, ConnectionResetError, ConnectionError, socket.timeout):
        pass
    assert observed in (None, 503), f"/readyz answered {observed} while draining"
    # No new WebSocket is admitted.
    try:
        r = relay.http("GET", "/channels/late", {"Upgrade": "websocket", "Connection": "Upgrade",
                                                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                                "Sec-WebSocket-Version": "13"}, timeout=1)
        assert r.status == 503, r
    except (ConnectionRefusedError, ConnectionResetError, ConnectionError, socket.timeout):
        pass
    status = relay.wait_exit(2 + 3)
    took = time.monotonic() - start
    assert status == 0
    frames, eof = stuck.read_until_eof(2)
    stuck.close()
    assert close_code_of(frames) == 1001, frames
    assert eof
    print(f"/readyz during drain: {observed}; exit after {took:.2f}s (drain_timeout 2s)")
    assert took >= 1.0, "did not wait for the unresponsive client at all"


def test_sigint_drains_too(relay):
    async def main():
        async with ws_connect(relay.url("/channels/i")) as ws:
            relay.send_signal(signal.SIGINT)
            return await closed_code(ws, 5)
    assert run(main()) == 1001
    assert relay.wait_exit(5) == 0


# --- SIGHUP ------------------------------------------------------------------------------------

def monotonic_usec_ok(fields):
    usec = int(fields["MONOTONIC_USEC"])
    now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
    return abs(now - usec) < 30e6


def test_sighup_changes_limit_live(relay_factory):
    relay = relay_factory({})
    payload = b"\x42" * 2000

    async def send_big(expect_ok):
        url = relay.url("/channels/live")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send(payload)
            if expect_ok:
                assert await asyncio.wait_for(b.recv(), 5) == payload
            else:
                assert await closed_code(a, 5) == 1009

    run(send_big(True))
    reloading, ready = relay.reload(deep_limits(relay, max_message_bytes=1000,
                                                channels=[{"match": "live", "echo": True}]))
    assert monotonic_usec_ok(reloading), reloading
    run(send_big(False))

    async def echo_now_on():
        async with ws_connect(relay.url("/channels/live")) as a:
            await a.send("me")
            assert await asyncio.wait_for(a.recv(), 5) == "me"
    run(echo_now_on())
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v == 1, {"result": "ok"})
    assert relay.alive()


def deep_limits(relay, channels=None, **limits):
    cfg = json.loads(json.dumps(relay.config))
    cfg["limits"].update(limits)
    if channels is not None:
        cfg["channels"] = channels
    return cfg


def test_failed_reload_keeps_old_config(relay_factory):
    relay = relay_factory({"limits": {"max_message_bytes": 4000}})
    good = relay.config
    for bad in ['{"limits": {"max_message_bytes": "small"}}', "{ not json"]:
        reloading, ready = relay.reload(text=bad)
        assert monotonic_usec_ok(reloading)
        assert relay.alive()
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v == 2, {"result": "error"})
    assert "/limits/max_message_bytes" in relay.log_text()

    async def old_limit_holds():
        url = relay.url("/channels/kept")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send(b"k" * 3000)  # allowed by the old 4000, and by no new value
            assert await asyncio.wait_for(b.recv(), 5) == b"k" * 3000
            await a.send(b"k" * 4001)
            assert await closed_code(a, 5) == 1009
    run(old_limit_holds())
    # And a good file afterwards still applies.
    relay.reload(good)
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v == 1, {"result": "ok"})


def test_reload_of_listen_needs_restart(relay_factory):
    relay = relay_factory({})
    cfg = json.loads(json.dumps(relay.config))
    cfg["listen"] = f"127.0.0.1:{free_port()}"
    relay.reload(cfg)
    assert relay.http("GET", "/healthz").status == 200  # still on the old address
    assert "restart" in relay.log_text()
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v == 1, {"result": "ok"})


def test_reload_changes_allowed_origins_live(relay_factory):
    relay = relay_factory({"allowed_origins": ["https://a.example"]})

    async def status(origin):
        try:
            async with ws_connect(relay.url("/channels/o"), origin=origin):
                return 101
        except websockets.InvalidStatusCode as e:
            return e.status_code

    assert run(status("https://a.example")) == 101
    assert run(status("https://b.example")) == 403
    cfg = json.loads(json.dumps(relay.config))
    cfg["allowed_origins"] = ["https://b.example"]
    relay.reload(cfg)
    assert run(status("https://a.example")) == 403
    assert run(status("https://b.example")) == 101


# --- command line ------------------------------------------------------------------------------

def test_no_config_file_listen_flags(relay_factory):
    """`wsrelay --listen HOST:PORT` works with no file at all, demo page included."""
    relay = relay_factory(config_file=False)
    r = relay.http("GET", "/")
    assert r.status == 200 and b"<" in r.body, r
    assert relay.http("GET", "/metrics", metrics=True).status == 200

    async def main():
        async with ws_connect(relay.url("/channels/demo")) as a, ws_connect(relay.url("/channels/demo")) as b:
            await a.send("no file")
            assert await asyncio.wait_for(b.recv(), 5) == "no file"
    run(main())
    relay.send_signal(signal.SIGTERM)
    assert relay.wait_exit(15) == 0


def test_version_and_help():
    p = subprocess.run([wsrelay_bin(), "--version"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and p.stdout.startswith("wsrelay "), p
    p = subprocess.run([wsrelay_bin(), "--help"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and "--config" in p.stdout + p.stderr, p
    p = subprocess.run([wsrelay_bin(), "--no-such-option"], capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "--no-such-option" in p.stdout + p.stderr, p


# --- sd_notify ---------------------------------------------------------------------------------

def test_sd_notify_sequence(relay):
    ready = relay.wait_notify("READY", "1", timeout=1)
    status = relay.wait_notify("STATUS", timeout=3)
    assert relay.notifications[status][1]["STATUS"], "empty STATUS="
    rel, rdy = relay.reload(relay.config)
    i_rel = next(i for i, n in enumerate(relay.notifications) if n[1].get("RELOADING") == "1")
    assert "MONOTONIC_USEC" in rel and monotonic_usec_ok(rel), rel
    i_rdy = relay.wait_notify("READY", "1", after=i_rel + 1, timeout=1)
    assert ready < i_rel < i_rdy
    mark = relay.notify_count()
    relay.send_signal(signal.SIGTERM)
    i_stop = relay.wait_notify("STOPPING", "1", after=mark, timeout=5)
    assert relay.wait_exit(5) == 0
    print("notifications:", [n[2] for n in relay.notifications])
    assert i_stop > i_rdy
    # No watchdog pings when the unit sets no WatchdogSec=.
    assert not any("WATCHDOG" in n[1] for n in relay.notifications)


def test_status_reports_connections_and_channels(relay):
    """STATUS= carries connection and channel counts (README); updates are reported, not judged."""
    first = relay.notifications[relay.wait_notify("STATUS", timeout=3)][1]["STATUS"]
    assert re.search(r"\d", first) and "conn" in first.lower() and "chan" in first.lower(), first

    async def main():
        async with ws_connect(relay.url("/channels/s1")), ws_connect(relay.url("/channels/s2")):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                texts = [n[1]["STATUS"] for n in relay.notifications if "STATUS" in n[1]]
                if texts[-1] != first:
                    return texts[-1]
                await asyncio.sleep(0.2)
            return None
    print(f"STATUS at start: {first!r}; with 2 clients on 2 channels: {run(main())!r}")


def test_watchdog(relay_factory):
    relay = relay_factory({}, watchdog_usec=2000000)
    start = time.monotonic()
    first = relay.wait_notify("WATCHDOG", "1", timeout=2.5)
    second = relay.wait_notify("WATCHDOG", "1", after=first + 1, timeout=2.5)
    took = time.monotonic() - start
    assert second > first
    print(f"two WATCHDOG=1 within {took:.2f}s (WATCHDOG_USEC=2000000)")


# --- metrics -----------------------------------------------------------------------------------

def test_metrics_names_counters_and_promtool(relay):
    text0 = relay.metrics_text()
    r = relay.http("GET", "/metrics", metrics=True)
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    base = parse_metrics(text0)

    async def traffic():
        url = relay.url("/channels/m")
        async with ws_connect(url) as a, ws_connect(url) as b, ws_connect(relay.url("/ws")) as j:
            await request(j, {"op": "subscribe", "channel": "m", "id": 1})
            for i in range(10):
                await a.send(f"message {i}")
            for i in range(10):
                assert await asyncio.wait_for(b.recv(), 5) == f"message {i}"
            await request(j, {"op": "publish", "channel": "m", "text": "from json", "id": 2})
            r = await asyncio.to_thread(relay.http, "POST", "/channels/m", {"Content-Type": "text/plain"}, "hi")
            assert r.json() == {"delivered": 3}
            await asyncio.sleep(1.5)  # the 1 s copy into the registry
            during = parse_metrics(relay.metrics_text())
            await a.close(1000)
        try:
            async with ws_connect(relay.url("/channels/m"), origin="http://evil.example"):
                pass
        except websockets.InvalidStatusCode as e:
            assert e.status_code == 403
        return during

    during = run(traffic())
    relay.reload(relay.config)
    key = lambda name, **labels: (name, frozenset(labels.items()))  # noqa: E731
    assert during[key("wsrelay_connections")] >= 3
    assert during[key("wsrelay_channels")] == 1
    relay.wait_metric("wsrelay_channels", lambda v: v == 0)
    relay.wait_metric("wsrelay_connections", lambda v: v <= 1)  # the scrape's own connection
    m = parse_metrics(relay.metrics_text())
    get = lambda name, **labels: m.get(key(name, **labels), 0.0)  # noqa: E731
    was = lambda name, **labels: base.get(key(name, **labels), 0.0)  # noqa: E731
    assert get("wsrelay_connections_accepted_total") >= was("wsrelay_connections_accepted_total") + 4
    assert get("wsrelay_messages_received_total") >= 12  # 10 raw + subscribe + publish on /ws
    assert get("wsrelay_bytes_received_total") >= sum(len(f"message {i}") for i in range(10))
    assert get("wsrelay_messages_published_total", source="ws") == 11
    assert get("wsrelay_messages_published_total", source="http") == 1
    # 10 raw messages to b and j, the /ws one to a and b, the HTTP one to all three.
    assert get("wsrelay_messages_delivered_total") == 10 * 2 + 2 + 3
    assert get("wsrelay_bytes_delivered_total") >= sum(len(f"message {i}") for i in range(10)) * 2
    assert get("wsrelay_connections_closed_total", code="1000") >= 1
    assert get("wsrelay_handshake_failures_total", status="403") == 1
    assert get("wsrelay_config_reloads_total", result="ok") == 1
    assert get("wsrelay_slow_consumer_closes_total") == 0
    assert 0 < get("wsrelay_publish_to_write_seconds_count") <= get("wsrelay_messages_delivered_total")
    assert get("wsrelay_publish_to_write_seconds_bucket", le="+Inf") == get("wsrelay_publish_to_write_seconds_count")
    text = relay.metrics_text()
    missing = [n for n in README_METRICS if n not in metric_names(text)]
    assert not missing, f"metrics missing from the scrape: {missing}\n{text}"
    for line in text.splitlines():
        assert "channel=" not in line, f"a per-channel label: {line}"
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, f"promtool check metrics:\n{p.stdout}{p.stderr}\n--- scrape:\n{text}"
    r = relay.http("GET", "/nope", metrics=True)
    assert r.status == 404, r
