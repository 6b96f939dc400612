"""TLS on the public listener (README `tls`): wss:// relay and HTTPS publish with a self-signed
certificate, python3-websockets and Node `ws` on the same channel."""

import asyncio
import json
import os
import socket
import ssl
import subprocess

from harness import HOST, NodePeer, read_http_response, run, ws_connect


def make_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def https_post(port, ctx, path, ctype, body):
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: {ctype}\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            return read_http_response(s)


def test_tls_relay(relay_factory, tmp_path):
    cert, key = make_cert(tmp_path)
    relay = relay_factory({"tls": {"cert": str(cert), "key": str(key)}})
    ctx = ssl.create_default_context(cafile=str(cert))

    async def main():
        url = relay.url("/channels/secure", scheme="wss")
        node = await NodePeer.connect(url, ca=str(cert))
        async with ws_connect(url, ssl=ctx) as a, ws_connect(url, ssl=ctx) as b:
            big = os.urandom(60000)
            await a.send("over tls \u00e9")
            await a.send(big)
            for got in [await asyncio.wait_for(b.recv(), 5), await node.recv()]:
                assert got == "over tls \u00e9"
            for got in [await asyncio.wait_for(b.recv(), 5), await node.recv()]:
                assert got == big
            await node.send(b"\x00node")
            assert await asyncio.wait_for(a.recv(), 5) == b"\x00node"
            r = await asyncio.to_thread(https_post, relay.port, ctx, "/channels/secure",
                                        "text/plain", b"via https")
            assert r.status == 200 and json.loads(r.body) == {"delivered": 3}, r
            assert await asyncio.wait_for(a.recv(), 5) == "via https"
        await node.close()
    run(main())
