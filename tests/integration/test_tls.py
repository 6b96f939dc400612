"""TLS on the public listener (README `tls`): wss:// relay and HTTPS publish with a self-signed
certificate, python3-websockets and Node `ws` on the same channel; then, with a CA and server
certificates made by the `openssl` CLI: TLS 1.3 and ALPN seen by `openssl s_client`, garbage
instead of a ClientHello dropped alone, the handshake timeout, certificate reload on SIGHUP with
open connections kept, unusable files as config errors, and socket activation through
`systemd-socket-activate`."""

import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets

from harness import (HOST, NodePeer, free_port, read_http_response, run, sanitizer_report,
                     upgrade_request, ws_connect, wsrelay_bin)


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


# ---------------------------------------------------------------------------------------------
# A test CA and server certificates for localhost / 127.0.0.1, made with the `openssl` CLI.

class Pki:
    """A CA in `dir` and server certificates it signs (each with its own serial)."""

    def __init__(self, dir):
        self.dir = dir
        self.ca = str(dir / "ca.crt")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-days", "2", "-subj", "/CN=wsrelay test CA",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                      "-keyout", str(dir / "ca.key"), "-out", self.ca)

    def _openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    def server_cert(self, name, serial, san="DNS:localhost,IP:127.0.0.1"):
        """Writes name.crt / name.key signed by the CA; returns (cert path, key path)."""
        key, csr, crt = (str(self.dir / f"{name}.{ext}") for ext in ("key", "csr", "crt"))
        (self.dir / f"{name}.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", str(self.dir / "ca.key"),
                      "-set_serial", str(serial), "-days", "2",
                      "-extfile", str(self.dir / f"{name}.ext"), "-out", crt)
        return crt, key

    def context(self):
        return ssl.create_default_context(cafile=self.ca)


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path)


def tls_relay(relay_factory, pki, extra=None, serial=0x1001, san="DNS:localhost,IP:127.0.0.1", name="live"):
    """A wsrelay serving wss with a fresh certificate at fixed paths (name.crt / name.key)."""
    crt, key = pki.server_cert(f"{name}-first", serial, san)
    live_crt, live_key = str(pki.dir / f"{name}.crt"), str(pki.dir / f"{name}.key")
    shutil.copy(crt, live_crt)
    shutil.copy(key, live_key)
    config = {"tls": {"cert": live_crt, "key": live_key}}
    config.update(extra or {})
    return relay_factory(config)


def s_client(port, pki, *extra):
    """`openssl s_client` against the relay; returns (its output, the server certificate's serial)."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-servername", "localhost",
                        "-alpn", "http/1.1", "-CAfile", pki.ca, *extra],
                       input="", capture_output=True, text=True, timeout=20)
    serial = None
    if "BEGIN CERTIFICATE" in p.stdout:
        x = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=p.stdout,
                           capture_output=True, text=True, timeout=20)
        serial = x.stdout.strip().partition("=")[2] or None
    return p.stdout + p.stderr, serial


def peer_serial(ws):
    """The serial (hex) of the certificate a websockets client connection was shown."""
    return ws.transport.get_extra_info("ssl_object").getpeercert()["serialNumber"]


async def relay_both_ways(a, b, tag):
    await a.send(f"{tag} a->b")
    assert await asyncio.wait_for(b.recv(), 5) == f"{tag} a->b"
    await b.send(f"{tag} b->a".encode())
    assert await asyncio.wait_for(a.recv(), 5) == f"{tag} b->a".encode()


def wait_closed_by_server(sock, timeout):
    """True when the server closes `sock` (EOF or reset) within timeout s; what arrives is dropped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(4096):
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


# ---------------------------------------------------------------------------------------------

def test_python_and_node_clients_relay_over_wss(relay_factory, pki):
    relay = tls_relay(relay_factory, pki)
    ctx = pki.context()

    async def main():
        url = relay.url("/channels/tls", scheme="wss")
        node = await NodePeer.connect(url, ca=pki.ca)
        async with ws_connect(url, ssl=ctx) as a, \
                ws_connect(f"wss://localhost:{relay.port}/channels/tls", ssl=ctx) as b:
            assert a.transport.get_extra_info("ssl_object").version() == "TLSv1.3"
            await relay_both_ways(a, b, "py")
            assert await node.recv() == "py a->b"
            assert await node.recv() == b"py b->a"
            # Many frames in a burst: gathered into 16 KiB records on the way out, in order.
            msgs = [os.urandom(1 + i * 37 % 3000) for i in range(500)]
            for m in msgs:
                await a.send(m)
            for m in msgs:
                assert await asyncio.wait_for(b.recv(), 5) == m
                assert await node.recv() == m
            await node.send("from node")
            assert await asyncio.wait_for(a.recv(), 5) == "from node"
            assert await asyncio.wait_for(b.recv(), 5) == "from node"
        await node.close()
    run(main())


def test_s_client_sees_tls13_and_alpn(relay_factory, pki):
    relay = tls_relay(relay_factory, pki)
    out, serial = s_client(relay.port, pki)
    assert "TLSv1.3" in out, out
    assert "ALPN protocol: http/1.1" in out, out
    assert "Verify return code: 0 (ok)" in out, out
    assert serial == "1001", out
    out12, _ = s_client(relay.port, pki, "-tls1_2")
    assert "Protocol  : TLSv1.2" in out12 or "TLSv1.2" in out12, out12
    assert "ALPN protocol: http/1.1" in out12, out12


def test_garbage_instead_of_client_hello_drops_only_that_client(relay_factory, pki):
    relay = tls_relay(relay_factory, pki)
    ctx = pki.context()
    before = relay.metric("wsrelay_handshake_failures_total", {"status": "400"})

    async def main():
        url = relay.url("/channels/g", scheme="wss")
        async with ws_connect(url, ssl=ctx) as a, ws_connect(url, ssl=ctx) as b:
            bad = []
            for garbage in (os.urandom(512),
                            b"GET /channels/g HTTP/1.1\r\nHost: x\r\n\r\n",  # plain HTTP
                            b"\x16\x03\x01\x00\x10" + b"\xff" * 16):  # a record that is no hello
                s = socket.create_connection((HOST, relay.port), timeout=5)
                s.sendall(garbage)
                bad.append(s)
            for s in bad:
                assert await asyncio.to_thread(wait_closed_by_server, s, 5), "garbage client not dropped"
                s.close()
            await relay_both_ways(a, b, "after garbage")
    run(main())
    relay.wait_metric("wsrelay_handshake_failures_total", lambda v: v >= before + 3, {"status": "400"})
    # Client-caused: logged at debug (off here), never as an error.
    levels = {line.split()[1] for line in relay.log_text().splitlines() if len(line.split()) > 1}
    assert not levels & {"error", "critical"}, relay.log_text()


def test_tls_handshake_counts_against_handshake_timeout(relay_factory, pki):
    relay = tls_relay(relay_factory, pki, {"limits": {"handshake_timeout_ms": 400, "drain_timeout_ms": 3000}})
    # A client that connects and says nothing, and one that stops inside its ClientHello.
    silent = socket.create_connection((HOST, relay.port), timeout=5)
    partial = socket.create_connection((HOST, relay.port), timeout=5)
    partial.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    start = time.monotonic()
    assert wait_closed_by_server(silent, 5)
    assert wait_closed_by_server(partial, 5)
    assert time.monotonic() - start < 4
    relay.wait_metric("wsrelay_handshake_failures_total", lambda v: v >= 2, {"status": "408"})
    out, _ = s_client(relay.port, pki)  # the listener is fine
    assert "ALPN protocol: http/1.1" in out


def test_sighup_reloads_the_certificate_and_keeps_open_connections(relay_factory, pki):
    relay = tls_relay(relay_factory, pki, serial=0x1001)
    ctx = pki.context()
    new_crt, new_key = pki.server_cert("second", 0x2002)

    async def main():
        url = relay.url("/channels/r", scheme="wss")
        async with ws_connect(url, ssl=ctx) as old:
            assert peer_serial(old) == "1001"
            # Renew: new files at the same paths (key first, then the certificate), SIGHUP.
            os.replace(shutil.copy(new_key, str(pki.dir / "tmp.key")), str(pki.dir / "live.key"))
            os.replace(shutil.copy(new_crt, str(pki.dir / "tmp.crt")), str(pki.dir / "live.crt"))
            await asyncio.to_thread(relay.reload)
            async with ws_connect(url, ssl=ctx) as new:
                assert peer_serial(new) == "2002"
                await relay_both_ways(old, new, "across the reload")
            _, serial = await asyncio.to_thread(s_client, relay.port, pki)
            assert serial == "2002"
            await old.send("still open")
            await old.ping()
    run(main())
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v >= 1, {"result": "ok"})
    assert "TLS certificate reloaded: subject CN = localhost, serial 2002" in relay.log_text()


def test_reload_with_a_bad_certificate_keeps_the_old_one(relay_factory, pki):
    relay = tls_relay(relay_factory, pki, serial=0x1001)
    ctx = pki.context()

    async def main():
        url = relay.url("/channels/bad", scheme="wss")
        async with ws_connect(url, ssl=ctx) as a:
            (pki.dir / "live.crt").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
            _, ready = await asyncio.to_thread(relay.reload)  # READY=1 after a failed reload too
            assert ready["READY"] == "1"
            async with ws_connect(url, ssl=ctx) as b:
                assert peer_serial(b) == "1001"
                await relay_both_ways(a, b, "bad reload")
    run(main())
    relay.wait_metric("wsrelay_config_reloads_total", lambda v: v >= 1, {"result": "error"})
    assert "/tls/cert" in relay.log_text()


def test_unusable_tls_files_are_config_errors(pki, tmp_path):
    crt, key = pki.server_cert("a", 1)
    _, other_key = pki.server_cert("b", 2)
    weak_crt, weak_key = str(tmp_path / "weak.crt"), str(tmp_path / "weak.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", weak_key, "-out", weak_crt],
                   check=True, capture_output=True, timeout=60)
    cases = [({"cert": str(tmp_path / "missing.crt"), "key": key}, "/tls/cert"),
             ({"cert": weak_crt, "key": weak_key}, "/tls/cert"),  # below OpenSSL's security level
             ({"cert": crt, "key": str(tmp_path / "missing.key")}, "/tls/key"),
             ({"cert": key, "key": key}, "/tls/cert"),      # a key where the cert should be
             ({"cert": crt, "key": other_key}, "/tls/key")]  # a key for another certificate
    for tls, pointer in cases:
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"listen": f"{HOST}:{free_port()}", "metrics_listen": "", "tls": tls}))
        p = subprocess.run([wsrelay_bin(), "--config", str(path), "--check-config"],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 78, (tls, p.stdout, p.stderr)
        assert pointer in p.stderr, (tls, p.stderr)


def test_socket_activation_with_systemd_socket_activate(pki, tmp_path):
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("systemd-socket-activate is not installed")
    crt, key = pki.server_cert("sa", 0x3003)
    port, metrics_port = free_port(), free_port()
    # `listen` names a port another socket holds: only the passed socket can serve.
    blocker = socket.socket()
    blocker.bind((HOST, 0))
    blocker.listen(1)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"listen": f"{HOST}:{blocker.getsockname()[1]}",
                               "metrics_listen": f"{HOST}:{metrics_port}", "log_level": "debug",
                               "tls": {"cert": crt, "key": key}}))
    log = open(tmp_path / "stderr.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "LISTEN_"))}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    proc = subprocess.Popen(["systemd-socket-activate", "-l", f"{HOST}:{port}", "--fdname=public",
                             wsrelay_bin(), "--config", str(cfg)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    try:
        deadline = time.monotonic() + 10
        while True:  # systemd-socket-activate listens first, then execs wsrelay on the first connection
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "systemd-socket-activate is not listening"
                time.sleep(0.05)

        async def main():
            url = f"wss://{HOST}:{port}/channels/sa"
            async with ws_connect(url, ssl=pki.context()) as a, ws_connect(url, ssl=pki.context()) as b:
                assert peer_serial(a) == "3003"
                await relay_both_ways(a, b, "activated")
        run(main())
        text = (tmp_path / "stderr.log").read_text(errors="replace")
        assert "socket passed by systemd (fd 3" in text, text
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(5)
        log.close()
        blocker.close()
    text = (tmp_path / "stderr.log").read_text(errors="replace")
    assert code == 0, text
    assert sanitizer_report(text) is None, text


# ---------------------------------------------------------------------------------------------
# The engine's own client over wss: lib/examples/wss_client (tcp_connect -> tls_attach_client
# -> ws_attach_client) against wsrelay.

def wss_client_bin():
    path = os.environ.get("WSS_CLIENT_BIN") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(wsrelay_bin()))), "lib", "examples", "wss_client")
    if not os.access(path, os.X_OK):
        pytest.fail(f"wss_client not found: {path} (set WSS_CLIENT_BIN)")
    return path


def test_engine_client_speaks_wss(relay_factory, pki):
    relay = tls_relay(relay_factory, pki)

    async def main():
        url = relay.url("/channels/engine", scheme="wss")
        async with ws_connect(url, ssl=pki.context()) as a:
            client = await asyncio.create_subprocess_exec(
                wss_client_bin(), "localhost", str(relay.port), "/channels/engine", "2",
                "hello from the engine", "second",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=dict(os.environ, WSRELAY_CA_FILE=pki.ca))
            try:
                assert await asyncio.wait_for(a.recv(), 10) == "hello from the engine"
                assert await asyncio.wait_for(a.recv(), 10) == "second"
                await a.send("reply one")
                await a.send("reply two " + "x" * 40000)  # several TLS records
                out, err = await asyncio.wait_for(client.communicate(), 20)
            finally:
                if client.returncode is None:
                    client.kill()
                    await client.wait()
            assert client.returncode == 0, err.decode()
            assert out.decode().splitlines() == ["text reply one", "text reply two " + "x" * 40000]
    run(main())


def test_engine_client_refuses_an_untrusted_or_misnamed_server(relay_factory, pki, tmp_path):
    relay = tls_relay(relay_factory, pki)
    (tmp_path / "other-ca").mkdir()
    other = Pki(tmp_path / "other-ca")
    misnamed = tls_relay(relay_factory, pki, san="DNS:elsewhere.example", name="misnamed")

    def attach(port, ca):
        p = subprocess.run([wss_client_bin(), "localhost", str(port), "/channels/x", "0"],
                           capture_output=True, text=True, timeout=20,
                           env=dict(os.environ, WSRELAY_CA_FILE=ca))
        return p.returncode, p.stderr

    assert attach(relay.port, pki.ca) == (0, "")
    code, err = attach(relay.port, other.ca)  # signed by a CA the client does not trust
    assert code == 1 and "tls_attach_client: Permission denied" in err, err
    code, err = attach(misnamed.port, pki.ca)  # trusted, but not for "localhost"
    assert code == 1 and "tls_attach_client: Permission denied" in err, err


def test_slow_wss_consumer_is_closed_others_keep_up(relay_factory, pki):
    relay = tls_relay(relay_factory, pki, {"limits": {"max_queue_bytes": 262144,
                                                      "queue_soft_bytes": 131072,
                                                      "queue_soft_seconds": 60}})
    ctx = pki.context()
    # A wss client that upgrades and then reads nothing (small receive buffer).
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(5)
    raw.connect((HOST, relay.port))
    slow = ctx.wrap_socket(raw, server_hostname="localhost")
    req, _ = upgrade_request(relay.port, "/channels/slow")
    slow.sendall(req)
    assert read_http_response(slow, head_only=True).status == 101
    count, size, window = 600, 16384, 8  # ~10 MB: far over the slow client's buffers + queue

    async def main():
        url = relay.url("/channels/slow", scheme="wss")
        async with ws_connect(url, ssl=ctx) as fast, ws_connect(url, ssl=ctx) as pub:
            got = 0
            for seq in range(count):
                await pub.send(seq.to_bytes(4, "big") + b"\x5a" * (size - 4))
                while seq - got >= window:  # the honest subscriber is never far behind
                    msg = await asyncio.wait_for(fast.recv(), 20)
                    assert int.from_bytes(msg[:4], "big") == got and len(msg) == size
                    got += 1
            while got < count:
                msg = await asyncio.wait_for(fast.recv(), 20)
                assert int.from_bytes(msg[:4], "big") == got
                got += 1
    run(main(), timeout=120)
    relay.wait_metric("wsrelay_slow_consumer_closes_total", lambda v: v >= 1)
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 1, {"code": "4008"})
    slow.close()


def test_sigterm_drains_wss_clients_with_1001(relay_factory, pki):
    relay = tls_relay(relay_factory, pki)

    async def main():
        url = relay.url("/channels/d", scheme="wss")
        node = await NodePeer.connect(url, ca=pki.ca)
        async with ws_connect(url, ssl=pki.context()) as a:
            relay.send_signal(signal.SIGTERM)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(a.recv(), 5)
            assert a.close_code == 1001
            assert (await node.expect_close(5))[0] == 1001
        await node.finish()
    run(main())
    assert relay.wait_exit(10) == 0
