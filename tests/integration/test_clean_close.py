"""A clean close every time (README "Closing"): a client that sends a message over the
limit sees close 1009, not 1006/ECONNRESET. The relay is still receiving the rest of the
message when it sends the close frame; were the socket closed with that input unread, the
kernel would send RST and the client would lose the close frame. After a close frame or an
error response the relay shuts down its write side and discards input until the client
closes (lingering close), so every run of every client library sees the code."""

import asyncio
import contextlib
import socket
import threading

import pytest
import websockets

from harness import HOST, read_http_response, run, run_node, ws_connect

RUNS = 20
BIG = 1 << 20  # 1 MiB, over the default 64 KiB message limit


@pytest.mark.parametrize("lib", ["ws", "faye", "websocket"])
def test_node_library_sees_1009(relay, lib):
    # One node process makes the RUNS connections one after the other.
    out = run_node("big_message.js", [lib, relay.url("/channels/big"), RUNS, BIG], timeout=150)
    codes = out["codes"]
    assert codes == [1009] * RUNS, f"{lib}: close codes {codes}"
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= RUNS, {"code": "1009"})


def test_python_websockets_sees_1009(relay):
    async def once():
        async with ws_connect(relay.url("/channels/big")) as ws:
            await ws.send(b"\x00" * BIG)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    async def main():
        return [await once() for _ in range(RUNS)]
    codes = run(main(), timeout=150)
    assert codes == [1009] * RUNS, f"close codes {codes}"


def test_error_response_then_fin_not_reset(relay):
    """An HTTP error answered while the request body is still coming (a publish over the
    message limit, announced in Content-Length): the client reads the 413 and then the
    end of the stream (FIN), not a reset, while its body is still being sent."""
    body = b"x" * (4 << 20)  # under the relay's lingering byte bound
    for _ in range(RUNS):
        with socket.create_connection((HOST, relay.port)) as s:
            s.sendall(b"POST /channels/big HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))

            def send_body():
                with contextlib.suppress(OSError):
                    s.sendall(body)
            sender = threading.Thread(target=send_body, daemon=True)
            sender.start()
            resp = read_http_response(s, timeout=10)
            assert resp.status == 413, resp
            assert resp.headers.get("connection") == "close", resp
            s.settimeout(10)
            rest = b""
            while chunk := s.recv(65536):  # a reset raises ConnectionResetError here
                rest += chunk
            assert rest == b"", rest
            sender.join(10)
