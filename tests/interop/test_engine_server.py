"""Node `ws` and python3-websockets clients against the engine's echo server
(lib/examples/echo_server.c): text and binary of 0, 125, 126, 65535, 65536 bytes and
16 MiB, whole and fragmented with a ping mid-message whose pong the client waits for,
and the closing handshake in both directions. The server prints what ws_status() read.
Also the upgrade failures: 400 for a bad request, 426 with Sec-WebSocket-Version: 13."""
import os
import socket

import pytest

from conftest import HERE, PYTHON, SIZES, need, node_env, run

CLIENTS = ["node", "python"]


def client_argv(kind, port, mode, closer, code, reason):
    url = f"ws://127.0.0.1:{port}/echo"
    args = [url, mode, closer, str(code), reason] + [str(s) for s in SIZES]
    if kind == "node":
        return [need("NODE"), os.path.join(HERE, "node_client.js")] + args
    return [PYTHON, os.path.join(HERE, "py_client.py")] + args


def run_client(kind, argv):
    return run(argv, env=node_env() if kind == "node" else None)


def expected_echoes():
    return [f"echo {t} {s} ok" for s in SIZES for t in ("text", "binary")]


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("mode", ["plain", "frag"])
def test_echo_then_client_close(echo_server, kind, mode):
    code, reason = (4003, f"{kind}-{mode}-bye")
    rc, lines = run_client(kind, client_argv(kind, echo_server.port, mode, "client", code, reason))
    assert rc == 0, lines
    assert [l for l in lines if l.startswith("echo ")] == expected_echoes()
    fragmented = 2 * sum(1 for s in SIZES if s >= 3) if mode == "frag" else 0
    assert f"pongs {fragmented}" in lines
    # The engine answered with the client's own code and reason...
    assert lines[-1] == f"CLOSE {code} {reason}"
    # ...which it had read with ws_status().
    echo_server.expect(f"close {code} {reason}")


@pytest.mark.parametrize("kind", CLIENTS)
def test_server_starts_close(echo_server, kind):
    code, reason = 4004, f"engine-closes-{kind}"
    rc, lines = run_client(kind, client_argv(kind, echo_server.port, "plain", "server", code,
                                             reason))
    assert rc == 0, lines
    assert lines[-1] == f"CLOSE {code} {reason}"
    echo_server.expect(f"server-close {code} {reason}")
    # The client's answer, read back through ws_status().
    echo_server.expect(f"close {code} {reason}")


def raw_upgrade(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors="replace")


def test_bad_upgrade_gets_400(echo_server):
    resp = raw_upgrade(echo_server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.startswith("HTTP/1.1 400 ")
    echo_server.expect(r"error handshake \d+ .*")


def test_wrong_version_gets_426(echo_server):
    resp = raw_upgrade(echo_server.port,
                       "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 8\r\n\r\n")
    assert resp.startswith("HTTP/1.1 426 ")
    assert "\r\nSec-WebSocket-Version: 13\r\n" in resp
