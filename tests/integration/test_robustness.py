"""Hostile inputs beyond the README's list: deeply nested JSON, a slow-loris on an HTTP publish
body, ambiguous request framing. The server must answer or refuse, never crash or hang."""

import asyncio
import socket
import time

from harness import HOST, read_http_response, recv_json, request, run, ws_connect


def test_deeply_nested_publish_data(relay):
    """`data` nested 30,000 deep fits in 64 KiB; the server must not recurse its stack away."""
    async def main():
        async with ws_connect(relay.url("/ws")) as pub, ws_connect(relay.url("/ws")) as sub:
            await request(sub, {"op": "subscribe", "channel": "deep", "id": 0})
            for depth in (100, 30000):
                doc = "[" * depth + "]" * depth
                await pub.send('{"op":"publish","channel":"deep","id":1,"data":' + doc + "}")
                reply = await recv_json(pub)
                if reply.get("ok"):
                    got = await asyncio.wait_for(sub.recv(), 5)  # too deep for python's json
                    assert '"channel":"deep"' in got.replace(" ", "") and doc in got, got[:200]
                else:
                    assert reply["error"]["code"] == 400, reply
            assert await request(pub, {"op": "ping", "id": 2}) == {"id": 2, "ok": True}
    run(main())
    assert relay.alive()


def test_http_publish_body_slow_loris_closed(relay_factory):
    """A POST whose body never completes is dropped like a slow request head."""
    relay = relay_factory({"limits": {"handshake_timeout_ms": 500}})
    with socket.create_connection((HOST, relay.port), timeout=10) as s:
        s.sendall(b"POST /channels/a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: 100\r\n\r\n0123456789")
        start = time.monotonic()
        s.settimeout(10)
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            raise AssertionError("a POST with an unfinished body is still open 10 s later "
                                 "(handshake_timeout_ms 500)") from None
        except ConnectionResetError:
            pass
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), data
        print(f"closed after {time.monotonic() - start:.2f}s")


def test_conflicting_content_length_refused(relay):
    """RFC 9112 §6.3: differing Content-Length values are an unrecoverable framing error."""
    with socket.create_connection((HOST, relay.port), timeout=5) as s:
        s.sendall(b"POST /channels/a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab")
        assert read_http_response(s).status == 400
