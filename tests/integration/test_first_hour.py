"""What a new user meets in the first hour, against the real binary: an HTTP publish with
Content-Type application/json reaches /ws subscribers as a JSON value (and a bad body is a
400 naming the byte), media types compare case-insensitively, a refused Origin is logged
once at info with the key that would allow it, and the start-up log says where the demo
page and the metrics are."""
import asyncio
import json
import re
import time

import websockets

from harness import HOST, recv_json, request, run, ws_connect


def post(relay, ctype, body):
    return relay.http("POST", "/channels/news", {"Content-Type": ctype}, body)


def test_http_json_publish_reaches_ws_subscribers_as_data(relay):
    async def main():
        async with ws_connect(relay.url("/channels/news")) as raw, ws_connect(relay.url("/ws")) as sub:
            await request(sub, {"op": "subscribe", "channel": "news", "id": 1})
            # 2^100 and a trailing zero keep every digit: the body is relayed as sent.
            doc = '{"temp": 21.50, "big": 1267650600228229401496703205376, "tags": ["a"]}'
            for ctype in ["application/json", "Application/JSON; Charset=UTF-8",
                          "application/ld+json"]:
                r = await asyncio.to_thread(post, relay, ctype, doc.encode())
                assert r.status == 200 and r.json() == {"delivered": 2}, (ctype, r)
                assert await asyncio.wait_for(raw.recv(), 5) == doc  # raw: a text frame as sent
                sub_text = await asyncio.wait_for(sub.recv(), 5)
                assert sub_text == '{"channel":"news","data":' + doc + "}", sub_text
                assert json.loads(sub_text)["data"]["tags"] == ["a"]
    run(main())


def test_http_json_publish_refuses_invalid_json_naming_the_byte(relay):
    async def main():
        async with ws_connect(relay.url("/ws")) as sub:
            await request(sub, {"op": "subscribe", "channel": "news", "id": 1})
            # The byte is counted from 1, at the first character that cannot be JSON there.
            for body, byte in [(b'{"a": 1,}', 9), (b'{"a": tru}', 10), (b"", 1),
                               (b'{"a": 1} {"b": 2}', 10), (b'{"k": 1, "k": 2}', None)]:
                r = await asyncio.to_thread(post, relay, "application/json", body)
                assert r.status == 400, (body, r)
                text = r.body.decode()
                if byte is None:
                    assert "duplicate key" in text, (body, text)
                else:
                    m = re.search(r"invalid JSON at byte (\d+)", text)
                    assert m, (body, text)
                    assert int(m.group(1)) == byte, (body, text)
            # Nothing of it was delivered: the next message is the first one the subscriber sees.
            r = await asyncio.to_thread(post, relay, "application/json", b"[1]")
            assert r.status == 200, r
            assert await recv_json(sub) == {"channel": "news", "data": [1]}
    run(main())


def test_text_media_types_compare_case_insensitively(relay):
    # TEXT/PLAIN is text: invalid UTF-8 is refused instead of being relayed as binary.
    r = post(relay, "TEXT/PLAIN", b"\xff\xfe")
    assert r.status == 400 and b"UTF-8" in r.body, r

    async def main():
        async with ws_connect(relay.url("/channels/news")) as raw:
            r = await asyncio.to_thread(post, relay, "Text/Plain; charset=UTF-8", "caf\u00e9".encode())
            assert r.status == 200, r
            assert await asyncio.wait_for(raw.recv(), 5) == "caf\u00e9"  # str: a text frame
    run(main())


def wait_log(relay, needle, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if needle in relay.log_text():
            return relay.log_text()
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in the log:\n{relay.log_text()}")


async def refused(relay, origin):
    try:
        async with ws_connect(relay.url("/channels/o"), origin=origin):
            return False
    except websockets.InvalidStatusCode as e:
        return e.status_code == 403


def test_refused_origin_is_logged_once_at_info_with_the_key(relay_factory):
    same_origin = relay_factory()
    listed = relay_factory({"allowed_origins": ["https://app.example"]})

    async def main():
        for _ in range(3):  # a page retrying: one line, not three
            assert await refused(same_origin, "https://evil.example")
        assert await refused(listed, "https://other.example")
    run(main())
    log = wait_log(same_origin, "refused a WebSocket from Origin 'https://evil.example'")
    lines = [l for l in log.splitlines() if "https://evil.example" in l]
    assert len(lines) == 1, lines
    assert "info" in lines[0].lower(), lines[0]
    assert '"allowed_origins": ["https://evil.example"]' in lines[0], lines[0]
    log = wait_log(listed, "refused a WebSocket from Origin 'https://other.example'")
    assert 'add "https://other.example" to allowed_origins' in log, log


def test_start_up_log_says_where_the_demo_page_and_metrics_are(relay_factory):
    on = relay_factory()
    log = wait_log(on, "demo page at")
    assert f"demo page at http://{HOST}:{on.port}/" in log, log
    assert f"metrics at http://{HOST}:{on.metrics_port}/metrics" in log, log
    off = relay_factory({"demo": False})
    log = wait_log(off, "WebSockets at")
    assert f"WebSockets at ws://{HOST}:{off.port}/ws (demo page off)" in log, log
