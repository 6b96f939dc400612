"""The engine's client (ws_peer, on ws.h) against Node `ws` and python3-websockets echo
servers: text and binary of 0, 125, 126, 65535, 65536 bytes and 16 MiB, whole and
fragmented (with a ping between fragments that the engine must answer), and the closing
handshake in both directions with code and reason read back through ws_status()."""
from conftest import SIZES, need, run


def sends():
    args = []
    for size in SIZES:
        args += ["--send", f"text:{size}", "--send", f"binary:{size}"]
    return args


def echoed(lines):
    return [l for l in lines if l.startswith("echo ")]


def expected_echoes():
    return [f"echo {t} {s} ok" for s in SIZES for t in ("text", "binary")]


def test_whole_messages_then_client_close(library_server):
    rc, lines = run([need("WS_PEER"), "--port", str(library_server.port)] + sends()
                    + ["--close", "4001:peer-bye"])
    assert rc == 0, lines
    assert echoed(lines) == expected_echoes()
    # The server echoed our close; ws_status() read its code and reason.
    assert lines[-1] == "CLOSE 4001 peer-bye"
    library_server.expect(r"close 4001 peer-bye")


def test_fragmented_echoes_with_ping_then_client_close(library_server):
    # ws_sendl / ws_recvl (iolists) this time; the server fragments every echo in three.
    rc, lines = run([need("WS_PEER"), "--port", str(library_server.port), "--path", "/frag",
                     "--iolist"] + sends() + ["--close", "4001:fragments-bye"])
    assert rc == 0, lines
    assert echoed(lines) == expected_echoes()
    assert lines[-1] == "CLOSE 4001 fragments-bye"
    # One ping between fragments per echo of 3+ bytes, each answered by the engine.
    fragmented = 2 * sum(1 for s in SIZES if s >= 3)
    assert library_server.expect(r"pongs (\d+)").group(1) == str(fragmented)
    library_server.expect(r"close 4001 fragments-bye")


def test_server_starts_close(library_server):
    rc, lines = run([need("WS_PEER"), "--port", str(library_server.port), "--send", "text:5",
                     "--server-close", "4002:server-bye"])
    assert rc == 0, lines
    assert lines[-1] == "CLOSE 4002 server-bye"
    # ws_detach answered the server's close with the same code and reason.
    library_server.expect(r"close 4002 server-bye")


def test_close_without_status(library_server):
    rc, lines = run([need("WS_PEER"), "--port", str(library_server.port), "--close", "0:"])
    assert rc == 0, lines
    # A close frame without payload: the library reports 1005, ws_status() reports 0.
    assert lines[-1] == "CLOSE 0 "
    library_server.expect(r"close 1005 ")
