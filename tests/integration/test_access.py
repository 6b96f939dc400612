"""Access control on the real binary (README "Securing wsrelay"): API keys on HTTP publish
(missing, wrong, right, channel-limited), a cross-site text/plain POST refused, CORS
preflights, DNS rebinding on upgrades, metrics_access, the per-IP cap, and rate limits on /ws
(429, the connection stays), raw channels (1008) and HTTP publish (429 + Retry-After)."""

import asyncio
import json
import socket

import pytest
import websockets

from harness import HOST, request, run, upgrade_request, ws_connect

KEY = "backend-key-0123456789"
NEWS_KEY = "news-only-key-0123456789"


def test_api_keys_on_http_publish(relay_factory):
    relay = relay_factory({"api_keys": [{"name": "backend", "secret": KEY},
                                        {"name": "news", "secret": NEWS_KEY, "channels": ["news.*"]}]})

    async def main():
        async with ws_connect(relay.url("/channels/a")) as sub:
            r = relay.http("POST", "/channels/a", body="no key")
            assert r.status == 401 and r.headers.get("www-authenticate") == "Bearer", r
            r = relay.http("POST", "/channels/a", {"Authorization": "Bearer wrong-key-0123456789"}, "x")
            assert r.status == 401, r
            r = relay.http("POST", "/channels/a", {"Authorization": f"Bearer {NEWS_KEY}"}, "x")
            assert r.status == 403, r
            r = relay.http("POST", "/channels/a", {"Authorization": f"Bearer {KEY}",
                                                   "Content-Type": "text/plain"}, "right")
            assert r.status == 200 and r.json() == {"delivered": 1}, r
            assert await asyncio.wait_for(sub.recv(), 5) == "right"
        r = relay.http("POST", "/channels/news.x", {"Authorization": f"Bearer {NEWS_KEY}"}, "n")
        assert r.status == 200, r
    run(main())


def test_cross_site_post_refused_and_preflight(relay_factory):
    relay = relay_factory({"allowed_origins": ["https://app.example"]})

    async def main():
        async with ws_connect(relay.url("/channels/x")) as sub:
            for origin in ("https://evil.example", "null"):
                r = relay.http("POST", "/channels/x", {"Origin": origin,
                                                       "Content-Type": "text/plain"}, "forged")
                assert r.status == 403, (origin, r)
            r = relay.http("POST", "/channels/x", {"Origin": "https://app.example",
                                                   "Content-Type": "text/plain"}, "ok")
            assert r.status == 200, r
            assert r.headers.get("access-control-allow-origin") == "https://app.example", r
            assert r.headers.get("vary") == "Origin", r
            assert await asyncio.wait_for(sub.recv(), 5) == "ok"  # the forged ones never came
        pre = {"Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization"}
        r = relay.http("OPTIONS", "/channels/x", dict(pre, Origin="https://app.example"))
        assert r.status == 204, r
        assert r.headers.get("access-control-allow-origin") == "https://app.example", r
        assert "POST" in r.headers.get("access-control-allow-methods", ""), r
        assert "Authorization" in r.headers.get("access-control-allow-headers", ""), r
        r = relay.http("OPTIONS", "/channels/x", dict(pre, Origin="https://evil.example"))
        assert r.status == 403 and "access-control-allow-origin" not in r.headers, r
    run(main())


def upgrade_status(port, host, origin):
    data, _ = upgrade_request(port, "/channels/r", {"Origin": origin}, host=host)
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(data)
        head = s.recv(4096).decode("latin-1")
    return int(head.split(" ", 2)[1])


def test_dns_rebinding(relay_factory):
    relay = relay_factory()
    p = relay.port
    assert upgrade_status(p, f"evil.example:{p}", f"http://evil.example:{p}") == 403
    assert upgrade_status(p, f"{HOST}:{p}", f"http://{HOST}:{p}") == 101
    r = relay.http("POST", "/channels/r", {"Host": f"evil.example:{p}",
                                           "Origin": f"http://evil.example:{p}"}, "x")
    assert r.status == 403, r
    listed = relay_factory({"public_origins": ["http://evil.example"]})
    q = listed.port
    assert upgrade_status(q, "evil.example", "http://evil.example") == 101
    assert upgrade_status(q, f"{HOST}:{q}", f"http://{HOST}:{q}") == 403  # the list replaces loopback


def test_metrics_access(relay_factory):
    relay = relay_factory({"metrics_access": {"token": "metrics-token-0123456789",
                                              "allow": ["127.0.0.1"]}})
    r = relay.http("GET", "/metrics", metrics=True)
    assert r.status == 401 and r.headers.get("www-authenticate") == "Bearer", r
    r = relay.http("GET", "/metrics", {"Authorization": "Bearer metrics-token-0123456789"}, metrics=True)
    assert r.status == 200 and b"wsrelay_rate_limited_total" in r.body, r
    assert relay.http("GET", "/healthz", metrics=True).status == 200
    other = relay_factory({"metrics_access": {"allow": ["10.0.0.0/8"]}})
    assert other.http("GET", "/metrics", metrics=True).status == 403


def test_per_ip_cap(relay_factory):
    relay = relay_factory({"limits": {"max_connections_per_ip": 2},
                           })

    async def main():
        url = relay.url("/channels/c")
        async with ws_connect(url), ws_connect(url):
            with pytest.raises(websockets.InvalidStatusCode) as e:
                async with ws_connect(url):
                    pass
            assert e.value.status_code == 503
        await asyncio.sleep(0.3)  # the slots are given back when the connections are freed
        async with ws_connect(url), ws_connect(url):
            pass
    run(main())
    relay.wait_metric("wsrelay_connections_refused_total", lambda v: v == 1, {"cause": "per_ip"})


def test_rate_limits_on_all_three_paths(relay_factory):
    relay = relay_factory({"rate_limit": {"messages_per_s": 1, "message_burst": 2}})

    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            codes = []
            for i in range(4):
                reply = await request(ws, {"op": "publish", "id": i, "channel": "w", "text": "m"})
                codes.append(reply.get("error", {}).get("code"))
            assert codes[:2] == [None, None] and 429 in codes[2:], codes
            reply = await request(ws, {"op": "ping", "id": 99})  # the connection stays
            assert reply.get("id") == 99 and "error" not in reply, reply
        async with ws_connect(relay.url("/channels/raw")) as raw:
            for _ in range(5):
                await raw.send("m")
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(raw.recv(), 5)
            assert raw.close_code == 1008, raw.close_code
    run(main())
    statuses = []
    for _ in range(4):
        r = relay.http("POST", "/channels/h", {"Content-Type": "text/plain"}, "m")
        statuses.append(r.status)
        if r.status == 429:
            assert int(r.headers["retry-after"]) >= 1, r
    assert statuses[:2] == [200, 200] and 429 in statuses[2:], statuses
    for path in ("ws", "raw", "http"):
        relay.wait_metric("wsrelay_rate_limited_total", lambda v: v >= 1, {"path": path})


def test_channel_rate_limit_replaces_the_global_one(relay_factory):
    """A channels entry with its own rate_limit (bytes this time) has its own bucket; other
    channels keep the global one (here: none)."""
    relay = relay_factory({"channels": [{"match": "slow.*",
                                         "rate_limit": {"bytes_per_s": 100, "byte_burst": 200}}]})

    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            big = "b" * 150
            codes = []
            for i in range(3):
                reply = await request(ws, {"op": "publish", "id": i, "channel": "slow.a",
                                           "text": big})
                codes.append(reply.get("error", {}).get("code"))
            assert codes[0] is None and 429 in codes[1:], codes
            for i in range(10):  # another channel: not limited
                reply = await request(ws, {"op": "publish", "id": 10 + i, "channel": "fast",
                                           "text": big})
                assert "error" not in reply, reply
        async with ws_connect(relay.url("/channels/slow.raw")) as raw:
            await raw.send("r" * 150)
            await raw.send("r" * 150)
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(raw.recv(), 5)
            assert raw.close_code == 1008, raw.close_code
    run(main())
    relay.wait_metric("wsrelay_rate_limited_total", lambda v: v >= 1, {"path": "ws"})
    relay.wait_metric("wsrelay_rate_limited_total", lambda v: v >= 1, {"path": "raw"})
