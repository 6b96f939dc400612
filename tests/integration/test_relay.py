"""The raw relay, the JSON protocol on /ws and HTTP publish, with real clients
(python3-websockets 10.4 and Node `ws`), as the README describes them."""

import asyncio
import base64
import json
import os
import socket

import pytest
import websockets

from harness import (HOST, NodePeer, encode_client_frame, expect_silence, recv_json, request, run,
                     upgrade_request, ws_connect)
import harness

CONFIG = {
    "limits": {"max_channels_per_client": 4},
    "channels": [
        {"match": "echo.*", "echo": True},
        {"match": "httponly", "publish": "http"},
        {"match": "clientsonly", "publish": "clients"},
        {"match": "small", "max_message_bytes": 100},
        {"match": "solo", "max_subscribers": 1},
    ],
}

# Text with multi-byte UTF-8, NUL and control bytes; binary with every byte value,
# including bytes that happen to be valid UTF-8 (they must still arrive as binary).
TEXTS = ["hello", "", "h\u00e9llo \u2713 \U0001F600 \x00\x01\x7f end", "y" * 60000]
BINS = [bytes(range(256)), b"", b"plain ascii but binary", os.urandom(65536)]


@pytest.fixture
def relay(relay_factory):
    return relay_factory(CONFIG)


def b64(data):
    return base64.b64encode(data).decode()


# --- raw relay -------------------------------------------------------------------------

def test_raw_relay_python_byte_exact_type_preserved_sender_excluded(relay):
    async def main():
        url = relay.url("/channels/room1")
        async with ws_connect(url) as a, ws_connect(url) as b, ws_connect(url) as c:
            sent = []
            for t, bn in zip(TEXTS, BINS):
                await a.send(t)
                await a.send(bn)
                sent += [t, bn]
            for sub in (b, c):
                for expected in sent:
                    got = await asyncio.wait_for(sub.recv(), 5)
                    assert type(got) is type(expected), f"type changed: {got[:40]!r}"
                    assert got == expected
            await expect_silence(a)  # the sender is excluded (no echo on this channel)
            await expect_silence(b, 0.1)
    run(main())


def test_channel_options_first_match_wins(relay_factory):
    relay = relay_factory({"channels": [{"match": "room.quiet", "echo": False},
                                        {"match": "room.*", "echo": True},
                                        {"match": "room.loud", "echo": False}]})

    async def echoes(name):
        async with ws_connect(relay.url("/channels/" + name)) as ws:
            await ws.send("me")
            try:
                return await asyncio.wait_for(ws.recv(), 0.5) == "me"
            except asyncio.TimeoutError:
                return False

    assert run(echoes("room.loud")) is True  # "room.*" comes first
    assert run(echoes("room.quiet")) is False  # the exact entry comes first
    assert run(echoes("room")) is False  # "room.*" needs the dot
    assert run(echoes("other")) is False


def test_demo_page_off(relay_factory):
    relay = relay_factory({"demo": False})
    assert relay.http("GET", "/").status == 404


def test_raw_relay_fragmented_message_reassembled(relay):
    async def main():
        url = relay.url("/channels/frag")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send(iter(["one ", "two ", "thr\u00e9e"]))
            await a.send(iter([b"\x00\x01", b"", b"\xff" * 1000]))
            assert await asyncio.wait_for(b.recv(), 5) == "one two thr\u00e9e"
            assert await asyncio.wait_for(b.recv(), 5) == b"\x00\x01" + b"\xff" * 1000
    run(main())


def test_raw_relay_wire_edge_cases(relay):
    """Frames sent with the handshake in one write, a frame one byte at a time, and a ping
    between the fragments of a message all relay intact."""
    async def main():
        async with ws_connect(relay.url("/channels/wire")) as sub:
            s = socket.create_connection((HOST, relay.port), timeout=5)
            try:
                req, _ = upgrade_request(relay.port, "/channels/wire")
                s.sendall(req + encode_client_frame(0x1, b"early") + encode_client_frame(0x2, b"\x00bird"))
                assert await asyncio.wait_for(sub.recv(), 5) == "early"
                assert await asyncio.wait_for(sub.recv(), 5) == b"\x00bird"
                frame = encode_client_frame(0x2, bytes(range(200)) * 2)
                for i in range(len(frame)):
                    s.sendall(frame[i:i + 1])
                    await asyncio.sleep(0.001)
                assert await asyncio.wait_for(sub.recv(), 5) == bytes(range(200)) * 2
                s.sendall(encode_client_frame(0x1, b"frag-", fin=False) + encode_client_frame(0x9, b"pp")
                          + encode_client_frame(0x0, b"ment"))
                assert await asyncio.wait_for(sub.recv(), 5) == "frag-ment"
            finally:
                s.close()
    run(main())


def test_raw_relay_node_and_python_both_ways(relay):
    async def main():
        url = relay.url("/channels/mixed")
        node = await NodePeer.connect(url)
        async with ws_connect(url) as py:
            for msg in ["from node \u00e9", b"abc", bytes(range(256)), "", b"", "z" * 50000]:
                await node.send(msg)
                got = await asyncio.wait_for(py.recv(), 5)
                assert type(got) is type(msg) and got == msg
            for msg in ["from python \u2713", b"\x00\xff", b"valid utf-8 bytes", "{}"]:
                await py.send(msg)
                got = await node.recv()
                assert type(got) is type(msg) and got == msg
            await expect_silence(py)
        await node.close()
    run(main())


def test_raw_relay_order_per_publisher_node_to_many(relay):
    async def main():
        url = relay.url("/channels/order")
        node = await NodePeer.connect(url)
        subs = [await ws_connect(url).__aenter__() for _ in range(5)]
        try:
            for i in range(200):
                await node.send(f"m{i}" if i % 2 else f"m{i}".encode())
            for s in subs:
                for i in range(200):
                    got = await asyncio.wait_for(s.recv(), 5)
                    assert got == (f"m{i}" if i % 2 else f"m{i}".encode())
        finally:
            for s in subs:
                await s.close()
            await node.close()
    run(main())


def test_echo_channel_delivers_to_sender(relay):
    async def main():
        url = relay.url("/channels/echo.room")
        node = await NodePeer.connect(url)
        async with ws_connect(url) as py:
            await py.send("ping \u00e9")
            assert await asyncio.wait_for(py.recv(), 5) == "ping \u00e9"  # own message back
            assert await node.recv() == "ping \u00e9"
            await node.send(b"\x01\x02")
            assert await node.recv() == b"\x01\x02"
            assert await asyncio.wait_for(py.recv(), 5) == b"\x01\x02"
        await node.close()
    run(main())


def test_channels_are_isolated(relay):
    async def main():
        async with ws_connect(relay.url("/channels/iso.a")) as a1, \
                ws_connect(relay.url("/channels/iso.a")) as a2, \
                ws_connect(relay.url("/channels/iso.b")) as b1:
            await a1.send("only for a")
            assert await asyncio.wait_for(a2.recv(), 5) == "only for a"
            await expect_silence(b1)
    run(main())


def test_raw_publish_on_http_only_channel_closes_1008(relay):
    async def main():
        async with ws_connect(relay.url("/channels/httponly")) as ws:
            r = await asyncio.to_thread(relay.http, "POST", "/channels/httponly",
                                        {"Content-Type": "text/plain"}, "from backend")
            assert r.status == 200 and r.json() == {"delivered": 1}
            assert await asyncio.wait_for(ws.recv(), 5) == "from backend"
            await ws.send("not allowed")
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1008
    run(main())


def test_raw_subscriber_over_max_subscribers_closed_1008(relay):
    async def main():
        async with ws_connect(relay.url("/channels/solo")) as first:
            async with ws_connect(relay.url("/channels/solo")) as second:
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(second.recv(), 5)
                assert second.close_code == 1008
            await first.send("still works")  # the first one is untouched
            await expect_silence(first)
    run(main())


def test_subprotocol_first_offer_echoed(relay):
    async def main():
        async with ws_connect(relay.url("/channels/proto"), subprotocols=["chat.v2", "chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v2"
        node = await NodePeer.connect(relay.url("/channels/proto"), protocols=["p1", "p2"])
        assert node.protocol == "p1"
        await node.close()
        async with ws_connect(relay.url("/channels/proto")) as ws:
            assert ws.subprotocol is None
    run(main())


def test_subprotocols_config_list(relay_factory):
    relay = relay_factory({"subprotocols": ["chat.v1", "chat.v2"]})

    async def main():
        async with ws_connect(relay.url("/channels/p"), subprotocols=["other", "chat.v2"]) as ws:
            assert ws.subprotocol == "chat.v2"
        with pytest.raises(websockets.InvalidStatusCode) as e:
            async with ws_connect(relay.url("/channels/p"), subprotocols=["other"]):
                pass
        assert e.value.status_code == 400
        node = await NodePeer.connect(relay.url("/channels/p"), protocols=["chat.v1"])
        assert node.protocol == "chat.v1"
        await node.close()
    run(main())


def test_client_offering_permessage_deflate_still_relays(relay):
    async def main():
        url = relay.url("/channels/deflate")
        async with ws_connect(url, compression="deflate") as a, ws_connect(url) as b:
            await a.send("compressible " * 100)
            assert await asyncio.wait_for(b.recv(), 5) == "compressible " * 100
            await b.send(b"\x00" * 1000)
            assert await asyncio.wait_for(a.recv(), 5) == b"\x00" * 1000
    run(main())


# --- the JSON protocol on /ws ------------------------------------------------------------

def test_ws_protocol_acks_and_deliveries(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as sub, ws_connect(relay.url("/ws")) as pub:
            assert await request(sub, {"op": "subscribe", "channel": "chat", "id": 1}) == {"id": 1, "ok": True}
            assert await request(sub, {"op": "ping", "id": "p-1"}) == {"id": "p-1", "ok": True}
            reply = await request(pub, {"op": "publish", "channel": "chat", "data": {"user": "ann", "says": "hi"}, "id": 7})
            assert reply == {"id": 7, "ok": True, "delivered": 1}
            assert await recv_json(sub) == {"channel": "chat", "data": {"user": "ann", "says": "hi"}}
            reply = await request(pub, {"op": "publish", "channel": "chat", "text": "hello \u00e9", "id": "s"})
            assert reply == {"id": "s", "ok": True, "delivered": 1}
            assert await recv_json(sub) == {"channel": "chat", "text": "hello \u00e9"}
            raw = bytes(range(256))
            reply = await request(pub, {"op": "publish", "channel": "chat", "binary": b64(raw), "id": 9})
            assert reply == {"id": 9, "ok": True, "delivered": 1}
            got = await recv_json(sub)
            assert got.keys() == {"channel", "binary"} and base64.b64decode(got["binary"]) == raw
            # Requests without an id get no ack, but still act.
            await pub.send(json.dumps({"op": "publish", "channel": "chat", "data": [1, 2, 3]}))
            assert await recv_json(sub) == {"channel": "chat", "data": [1, 2, 3]}
            await expect_silence(pub)  # no ack, and no echo of its own message
            await sub.send(json.dumps({"op": "unsubscribe", "channel": "chat"}))
            await asyncio.sleep(0.2)
            reply = await request(pub, {"op": "publish", "channel": "chat", "text": "gone", "id": 10})
            assert reply == {"id": 10, "ok": True, "delivered": 0}
            await expect_silence(sub)
    run(main())


def test_ws_unsubscribe_ack_and_many_channels_one_socket(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as sub, ws_connect(relay.url("/ws")) as pub:
            for i, ch in enumerate(["m.a", "m.b", "m.c"]):
                assert await request(sub, {"op": "subscribe", "channel": ch, "id": i}) == {"id": i, "ok": True}
            for ch in ["m.c", "m.a", "m.b"]:
                await request(pub, {"op": "publish", "channel": ch, "text": ch, "id": 0})
            for ch in ["m.c", "m.a", "m.b"]:
                assert await recv_json(sub) == {"channel": ch, "text": ch}
            assert await request(sub, {"op": "unsubscribe", "channel": "m.b", "id": 5}) == {"id": 5, "ok": True}
            assert (await request(pub, {"op": "publish", "channel": "m.b", "text": "x", "id": 6}))["delivered"] == 0
            assert (await request(pub, {"op": "publish", "channel": "m.a", "text": "y", "id": 7}))["delivered"] == 1
            assert await recv_json(sub) == {"channel": "m.a", "text": "y"}
    run(main())


def test_ws_echo_channel_delivers_to_publisher(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            await request(ws, {"op": "subscribe", "channel": "echo.json", "id": 1})
            await ws.send(json.dumps({"op": "publish", "channel": "echo.json", "text": "me", "id": 2}))
            got = [await recv_json(ws), await recv_json(ws)]  # the ack and the delivery, any order
            assert {"id": 2, "ok": True, "delivered": 1} in got
            assert {"channel": "echo.json", "text": "me"} in got
    run(main())


def test_cross_delivery_between_raw_and_ws(relay):
    async def main():
        async with ws_connect(relay.url("/channels/cross")) as raw, \
                ws_connect(relay.url("/ws")) as sub, ws_connect(relay.url("/ws")) as pub:
            node = await NodePeer.connect(relay.url("/channels/cross"))
            await request(sub, {"op": "subscribe", "channel": "cross", "id": 1})
            # /ws publish -> raw: data as its JSON text, text as text, binary decoded.
            reply = await request(pub, {"op": "publish", "channel": "cross", "data": {"k": [1, "\u00e9"]}, "id": 2})
            assert reply["delivered"] == 3
            for got in [await asyncio.wait_for(raw.recv(), 5), await node.recv()]:
                assert isinstance(got, str) and json.loads(got) == {"k": [1, "\u00e9"]}
            assert await recv_json(sub) == {"channel": "cross", "data": {"k": [1, "\u00e9"]}}
            await request(pub, {"op": "publish", "channel": "cross", "text": "plain \u2713", "id": 3})
            assert await asyncio.wait_for(raw.recv(), 5) == "plain \u2713"
            assert await node.recv() == "plain \u2713"
            assert await recv_json(sub) == {"channel": "cross", "text": "plain \u2713"}
            await request(pub, {"op": "publish", "channel": "cross", "binary": b64(b"ab\x00\xff"), "id": 4})
            assert await asyncio.wait_for(raw.recv(), 5) == b"ab\x00\xff"
            assert await node.recv() == b"ab\x00\xff"
            assert await recv_json(sub) == {"channel": "cross", "binary": b64(b"ab\x00\xff")}
            # raw -> /ws: text frame as "text", binary frame as "binary".
            await raw.send("raw text \u00e9")
            assert await recv_json(sub) == {"channel": "cross", "text": "raw text \u00e9"}
            await node.send(b"\x00\x01binary")
            assert await recv_json(sub) == {"channel": "cross", "binary": b64(b"\x00\x01binary")}
            assert await node.recv() == "raw text \u00e9"
            assert await asyncio.wait_for(raw.recv(), 5) == b"\x00\x01binary"
            await expect_silence(pub)
            await node.close()
    run(main())


def error_of(reply, code, rid):
    assert reply.get("id", "missing") == rid, reply
    assert reply.get("error", {}).get("code") == code, reply
    assert isinstance(reply["error"].get("reason"), str) and reply["error"]["reason"], reply
    assert "ok" not in reply or reply["ok"] is False, reply


def test_ws_error_codes(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            # 400: not JSON, not an object, missing or mistyped fields.
            for bad in ["not json", "[1,2]", "42", '{"op": "subscribe"', '"op"']:
                await ws.send(bad)
                error_of(await recv_json(ws), 400, None)
            for i, req in enumerate([
                {"op": "subscribe"},
                {"op": "subscribe", "channel": 5},
                {"op": 7, "channel": "c"},
                {"channel": "c"},
                {"op": "publish", "channel": "c"},
                {"op": "publish", "channel": "c", "text": "a", "data": 1},
                {"op": "publish", "channel": "c", "text": 5},
                {"op": "publish", "channel": "c", "binary": "!!! not base64 !!!"},
            ]):
                error_of(await request(ws, dict(req, id=100 + i)), 400, 100 + i)
            # 404 unknown op.
            error_of(await request(ws, {"op": "jump", "id": 3}), 404, 3)
            error_of(await request(ws, {"op": "SUBSCRIBE", "channel": "c", "id": "up"}), 404, "up")
            # 422 bad channel name.
            for i, name in enumerate(["bad name", "", "x" * 201, "caf\u00e9", "a;b", "a?b"]):
                error_of(await request(ws, {"op": "subscribe", "channel": name, "id": 200 + i}), 422, 200 + i)
            error_of(await request(ws, {"op": "publish", "channel": "bad name", "text": "x", "id": 210}), 422, 210)
            assert await request(ws, {"op": "subscribe", "channel": "Az09._:/-" + "x" * 191, "id": 211}) == {"id": 211, "ok": True}
            # 409 already subscribed, 412 not subscribed.
            assert await request(ws, {"op": "subscribe", "channel": "dup", "id": 300}) == {"id": 300, "ok": True}
            error_of(await request(ws, {"op": "subscribe", "channel": "dup", "id": 301}), 409, 301)
            error_of(await request(ws, {"op": "unsubscribe", "channel": "never", "id": 302}), 412, 302)
            # 413 over the channel's max_message_bytes (100 on "small").
            ok = await request(ws, {"op": "publish", "channel": "small", "text": "s" * 100, "id": 400})
            assert ok == {"id": 400, "ok": True, "delivered": 0}
            error_of(await request(ws, {"op": "publish", "channel": "small", "text": "s" * 101, "id": 401}), 413, 401)
            error_of(await request(ws, {"op": "publish", "channel": "small", "binary": b64(b"\0" * 101), "id": 402}), 413, 402)
            # 403 publishing on an http-only channel; subscribing there is fine.
            error_of(await request(ws, {"op": "publish", "channel": "httponly", "text": "x", "id": 500}), 403, 500)
            # 429 max_channels_per_client (4: "Az09...", "dup", then two more).
            assert (await request(ws, {"op": "subscribe", "channel": "httponly", "id": 600}))["ok"] is True
            assert (await request(ws, {"op": "subscribe", "channel": "c4", "id": 601}))["ok"] is True
            error_of(await request(ws, {"op": "subscribe", "channel": "c5", "id": 602}), 429, 602)
            # Errors never close the connection.
            assert await request(ws, {"op": "ping", "id": 700}) == {"id": 700, "ok": True}
        # 429 max_subscribers (1 on "solo").
        async with ws_connect(relay.url("/ws")) as a, ws_connect(relay.url("/ws")) as b:
            assert await request(a, {"op": "subscribe", "channel": "solo", "id": 1}) == {"id": 1, "ok": True}
            error_of(await request(b, {"op": "subscribe", "channel": "solo", "id": 2}), 429, 2)
            assert await request(a, {"op": "unsubscribe", "channel": "solo", "id": 3}) == {"id": 3, "ok": True}
            assert await request(b, {"op": "subscribe", "channel": "solo", "id": 4}) == {"id": 4, "ok": True}
    run(main())


def test_ws_errors_without_id_are_still_reported(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            await ws.send(json.dumps({"op": "nope"}))
            error_of(await recv_json(ws), 404, None)
            await ws.send(json.dumps({"op": "subscribe", "channel": "bad name"}))
            error_of(await recv_json(ws), 422, None)
    run(main())


def test_ws_binary_frame_is_refused(relay):
    """Requests are text frames: a binary one is a malformed request (400) or closed 1003."""
    async def main():
        async with ws_connect(relay.url("/ws")) as ws:
            await ws.send(b'{"op":"ping","id":1}')
            try:
                reply = await recv_json(ws)
            except websockets.ConnectionClosed:
                assert ws.close_code == 1003
                return
            assert reply.get("error", {}).get("code") == 400, reply
            assert await request(ws, {"op": "ping", "id": 2}) == {"id": 2, "ok": True}
    run(main())


# --- HTTP publish ------------------------------------------------------------------------

def test_http_publish_text_binary_json(relay):
    async def main():
        raw_url = relay.url("/channels/news")
        async with ws_connect(raw_url) as raw, ws_connect(relay.url("/ws")) as sub:
            node = await NodePeer.connect(raw_url)
            await request(sub, {"op": "subscribe", "channel": "news", "id": 1})

            async def post(ctype, body):
                headers = {"Content-Type": ctype} if ctype else {}
                return await asyncio.to_thread(relay.http, "POST", "/channels/news", headers, body)

            r = await post("text/plain; charset=utf-8", "breaking \u00e9".encode())
            assert r.status == 200 and r.json() == {"delivered": 3}, r
            assert await asyncio.wait_for(raw.recv(), 5) == "breaking \u00e9"
            assert await node.recv() == "breaking \u00e9"
            assert await recv_json(sub) == {"channel": "news", "text": "breaking \u00e9"}

            blob = bytes(range(256)) * 4
            r = await post("application/octet-stream", blob)
            assert r.status == 200 and r.json() == {"delivered": 3}, r
            assert await asyncio.wait_for(raw.recv(), 5) == blob
            assert await node.recv() == blob
            assert await recv_json(sub) == {"channel": "news", "binary": b64(blob)}

            r = await post(None, b"no content type")  # binary otherwise
            assert r.status == 200 and r.json() == {"delivered": 3}, r
            assert await asyncio.wait_for(raw.recv(), 5) == b"no content type"
            assert await node.recv() == b"no content type"
            await recv_json(sub)

            doc = '{"a": [1, 2], "b": "\u00e9"}'
            r = await post("application/json", doc.encode())
            assert r.status == 200 and r.json() == {"delivered": 3}, r
            assert await asyncio.wait_for(raw.recv(), 5) == doc  # a text frame, bytes as sent
            assert await node.recv() == doc
            got = await recv_json(sub)
            assert got == {"channel": "news", "data": json.loads(doc)}, got

            r = await post("text/html", b"<p>hi</p>")
            assert r.status == 200 and await asyncio.wait_for(raw.recv(), 5) == "<p>hi</p>"
            await node.close()
    run(main())


def test_http_publish_status_codes(relay):
    r = relay.http("POST", "/channels/nobody", {"Content-Type": "text/plain"}, "x")
    assert r.status == 200 and r.json() == {"delivered": 0}, r
    r = relay.http("POST", "/channels/big", {"Content-Type": "application/octet-stream"}, b"\0" * 65536)
    assert r.status == 200, r
    r = relay.http("POST", "/channels/big", {"Content-Type": "application/octet-stream"}, b"\0" * 65537)
    assert r.status == 413, r
    r = relay.http("POST", "/channels/small", {"Content-Type": "text/plain"}, "s" * 100)
    assert r.status == 200, r
    r = relay.http("POST", "/channels/small", {"Content-Type": "text/plain"}, "s" * 101)
    assert r.status == 413, r
    r = relay.http("POST", "/channels/clientsonly", {"Content-Type": "text/plain"}, "x")
    assert r.status == 403, r
    r = relay.http("POST", "/channels/bad%20name", {"Content-Type": "text/plain"}, "x")
    assert r.status == 400, r
    r = relay.http("POST", "/channels/" + "x" * 201, {"Content-Type": "text/plain"}, "x")
    assert r.status == 400, r
    r = relay.http("POST", "/channels/utf8", {"Content-Type": "text/plain"}, b"\xff\xfe bad utf-8")
    assert r.status == 400, r
    r = relay.http("POST", "/channels/utf8", {"Content-Type": "application/json"}, b"\xc3\x28")
    assert r.status == 400, r


def test_http_publish_from_clients_only_channel_by_websocket_ok(relay):
    async def main():
        url = relay.url("/channels/clientsonly")
        async with ws_connect(url) as a, ws_connect(url) as b:
            await a.send("clients may")
            assert await asyncio.wait_for(b.recv(), 5) == "clients may"
    run(main())


# --- plain HTTP endpoints -----------------------------------------------------------------

def test_http_endpoints(relay):
    r = relay.http("GET", "/healthz")
    assert r.status == 200 and r.body.strip() == b"ok", r
    r = relay.http("GET", "/readyz")
    assert r.status == 200 and r.body.strip() == b"ready", r
    r = relay.http("GET", "/nope")
    assert r.status == 404, r
    r = relay.http("GET", "/channelsx/a")
    assert r.status == 404, r
    r = relay.http("GET", "/")
    assert r.status == 200 and "text/html" in r.headers.get("content-type", ""), r
    for method, path in [("DELETE", "/channels/x"), ("PUT", "/channels/x"), ("POST", "/healthz"),
                         ("POST", "/ws"), ("DELETE", "/")]:
        r = relay.http(method, path)
        assert r.status == 405, (method, path, r)
        assert r.headers.get("allow"), (method, path, r)
    for path in ["/ws", "/channels/x"]:
        r = relay.http("GET", path)
        assert r.status == 426, r
        assert r.headers.get("upgrade", "").lower() == "websocket", r
    r = relay.http("GET", "/healthz", metrics=True)
    assert r.status == 200, r


def test_bad_upgrades(relay):
    def exchange(req):
        with socket.create_connection((HOST, relay.port), timeout=5) as s:
            s.sendall(req)
            return harness.read_http_response(s, head_only=True)

    req, _ = upgrade_request(relay.port, "/channels/x", {"Sec-WebSocket-Version": "8"})
    r = exchange(req)
    assert r.status == 426 and r.headers.get("sec-websocket-version") == "13", r
    req, _ = upgrade_request(relay.port, "/channels/x", omit=["Sec-WebSocket-Key"])
    assert exchange(req).status == 400
    req, _ = upgrade_request(relay.port, "/channels/x", {"Sec-WebSocket-Key": "short"})
    assert exchange(req).status == 400
    req, _ = upgrade_request(relay.port, "/channels/x", {"Connection": "keep-alive"})
    assert exchange(req).status in (400, 426)
    req, _ = upgrade_request(relay.port, "/channels/bad%20name")
    assert exchange(req).status == 400
    req, key = upgrade_request(relay.port, "/channels/ok", {"Connection": "keep-alive, Upgrade",
                                                           "Upgrade": "WebSocket"})
    r = exchange(req)
    assert r.status == 101 and r.headers["sec-websocket-accept"] == harness.accept_for(key), r
