"""permessage-deflate (RFC 7692) against real clients: Node `ws` (perMessageDeflate),
python3-websockets (compression="deflate") and headless Chromium (which offers it by
default) negotiate it, send compressed text and binary messages of 0 B to 1 MiB (fragmented
where the client can) and get every byte back through the relay. The relay's frames carry
RSV1 and inflate to the message; one compressed frame is made per message, whatever the
number of subscribers (the metrics count it once); an offer is declined where compression
is off; a deflate bomb is closed with 1009 while the relay's memory stays put."""

import asyncio
import json
import os
import socket
import struct
import zlib

from harness import (HOST, NODE_DIR, accept_for, kill_node_procs, read_http_response, run,
                     run_node, upgrade_request, ws_connect)

SIZES = [0, 1, 100, 1000, 65536, 1 << 20]
COMPRESSED = {
    "limits": {"max_message_bytes": 2 << 20, "max_queue_bytes": 64 << 20,
               "queue_soft_bytes": 32 << 20},
    "channels": [{"match": "*", "compression": {"enabled": True, "min_bytes": 0}}],
}


def payload(size, binary, seed):
    """Compressible but not trivially: JSON-ish text, bytes half random."""
    rnd = random_bytes(size, seed)
    if binary:
        return bytes(rnd[i] if (i % 512) < 256 else (i & 0xFF) for i in range(size))
    words = b'{"user":"alice","text":"hello world","n":'
    return bytes(words[i % len(words)] if rnd[i] > 20 else 0x30 + rnd[i] % 10 for i in range(size))


def random_bytes(size, seed):
    import random
    return random.Random(seed).randbytes(size)


# --- a raw client that speaks permessage-deflate by hand --------------------------------

class DeflateRaw:
    """Negotiates with `offer` and reads frames with their RSV bits."""

    def __init__(self, port, path, offer="permessage-deflate; client_max_window_bits"):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        extra = {"Sec-WebSocket-Extensions": offer} if offer else {}
        req, key = upgrade_request(port, path, extra)
        self.sock.sendall(req)
        self.response = read_http_response(self.sock, 10, head_only=True)
        assert self.response.status == 101, self.response
        assert self.response.headers.get("sec-websocket-accept") == accept_for(key)
        self.extensions = self.response.headers.get("sec-websocket-extensions")
        self.buf = self.response.body

    def send_frame(self, opcode, data, fin=True, rsv1=False):
        mask = os.urandom(4)
        n = len(data)
        head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        m = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
        self.sock.sendall(head + mask + body)

    def read_frame(self, timeout=10):
        """(b0, payload) of the next frame; None at EOF."""
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 2:
                n = self.buf[1] & 0x7F
                j = 2
                if n == 126 and len(self.buf) >= 4:
                    n, j = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, j = struct.unpack("!Q", self.buf[2:10])[0], 10
                if (self.buf[1] & 0x7F) < 126 or j > 2:
                    if len(self.buf) >= j + n:
                        b0, data = self.buf[0], self.buf[j:j + n]
                        self.buf = self.buf[j + n:]
                        return b0, data
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def close(self):
        self.sock.close()


def inflate(data):
    d = zlib.decompressobj(-15)
    return d.decompress(data + b"\x00\x00\xff\xff") + d.flush()


def compress(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    z = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert z.endswith(b"\x00\x00\xff\xff")
    return z[:-4]


# --- negotiation --------------------------------------------------------------------------

def test_offers_are_answered_with_what_was_offered(relay_factory):
    relay = relay_factory(COMPRESSED)
    cases = {
        "permessage-deflate; client_max_window_bits": "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover":
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12":
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
        # Unusable first offer (bad value), the second taken.
        "permessage-deflate; server_max_window_bits=7, permessage-deflate":
            "permessage-deflate; server_no_context_takeover",
        # Nothing usable: declined, still a 101.
        "permessage-deflate; x-unknown": None,
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover": None,
        "x-webkit-deflate-frame": None,
    }
    for offer, want in cases.items():
        c = DeflateRaw(relay.port, "/channels/neg", offer)
        assert c.extensions == want, (offer, c.extensions)
        c.close()
    # /ws takes it too (some channel entry compresses).
    c = DeflateRaw(relay.port, "/ws")
    assert c.extensions == "permessage-deflate; server_no_context_takeover"
    c.close()


def test_declined_where_compression_is_off(relay_factory):
    relay = relay_factory({"channels": [{"match": "zipped.*", "compression": {"enabled": True}},
                                        {"match": "plain.*", "compression": {"enabled": False}}]})
    c = DeflateRaw(relay.port, "/channels/plain.a")
    assert c.extensions is None
    c.close()
    c = DeflateRaw(relay.port, "/channels/other")
    assert c.extensions is None
    c.close()
    c = DeflateRaw(relay.port, "/channels/zipped.a")
    assert c.extensions == "permessage-deflate; server_no_context_takeover"
    c.close()
    # Not negotiated: RSV1 is a protocol error (1002).
    c = DeflateRaw(relay.port, "/channels/plain.a")
    c.send_frame(0x1, compress(b"hello " * 20), rsv1=True)
    b0, data = c.read_frame()
    assert b0 & 0x0F == 0x8 and struct.unpack("!H", data[:2])[0] == 1002
    c.close()


# --- the relay's frames -----------------------------------------------------------------

def test_one_compressed_frame_per_message_shared_by_subscribers(relay_factory):
    relay = relay_factory(dict(COMPRESSED, channels=[
        {"match": "*", "compression": {"enabled": True, "min_bytes": 64, "level": 6}}]))
    subs = [DeflateRaw(relay.port, "/channels/share") for _ in range(5)]
    plain = DeflateRaw(relay.port, "/channels/share", offer=None)
    assert all(s.extensions for s in subs) and plain.extensions is None
    relay.wait_metric("wsrelay_channels", lambda v: v == 1)
    body = payload(20000, False, 1)
    small = b"tiny"
    for msg in (body, small):
        r = relay.http("POST", "/channels/share", {"Content-Type": "text/plain"}, msg)
        assert r.status == 200 and r.json()["delivered"] == 6, r
    for s in subs:
        b0, data = s.read_frame()
        assert b0 == 0xC1, hex(b0)  # FIN, RSV1, text
        assert len(data) < len(body) // 2
        assert inflate(data) == body
        b0, data = s.read_frame()
        assert b0 == 0x81 and data == small  # under min_bytes: sent as it is
    b0, data = plain.read_frame()
    assert b0 == 0x81 and data == body
    # Compressed once for the five subscribers, not five times.
    relay.wait_metric("wsrelay_compression_bytes_in_total", lambda v: v == len(body))
    relay.wait_metric("wsrelay_compression_bytes_out_total", lambda v: 0 < v < len(body) // 2)
    for s in subs + [plain]:
        s.close()


def test_json_deliveries_are_compressed_too(relay_factory):
    relay = relay_factory(COMPRESSED)

    async def main():
        async with ws_connect(relay.url("/ws"), compression="deflate") as sub:
            assert "permessage-deflate" in sub.response_headers["Sec-WebSocket-Extensions"]
            await sub.send('{"op":"subscribe","channel":"j","id":1}')
            assert '"id":1' in await asyncio.wait_for(sub.recv(), 5)
            body = payload(5000, False, 2)
            r = await asyncio.to_thread(relay.http, "POST", "/channels/j",
                                        {"Content-Type": "text/plain"}, body)
            assert r.status == 200, r
            msg = json.loads(await asyncio.wait_for(sub.recv(), 5))
            assert msg == {"channel": "j", "text": body.decode()}
    run(main())
    relay.wait_metric("wsrelay_compression_bytes_out_total", lambda v: v > 0)


# --- interop: bytes come back exact -----------------------------------------------------

def test_python_websockets_text_binary_fragmented(relay_factory):
    relay = relay_factory(COMPRESSED)

    async def main():
        url = relay.url("/channels/py")
        async with ws_connect(url, compression="deflate") as sub, \
                ws_connect(url, compression="deflate") as pub:
            for ws in (sub, pub):
                assert ws.response_headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
            await asyncio.sleep(0.2)
            sent = []
            seed = 0
            for size in SIZES:
                for binary in (False, True):
                    for frag in (False, True):
                        seed += 1
                        data = payload(size, binary, seed)
                        msg = data if binary else data.decode()
                        if frag:  # websockets sends an iterable as fragments of one message
                            cut = [size // 3, 2 * size // 3]
                            await pub.send([msg[:cut[0]], msg[cut[0]:cut[1]], msg[cut[1]:]])
                        else:
                            await pub.send(msg)
                        sent.append(msg)
            for i, want in enumerate(sent):
                got = await asyncio.wait_for(sub.recv(), 20)
                assert type(got) is type(want) and got == want, f"message {i} differs"
    run(main(), timeout=150)
    relay.wait_metric("wsrelay_compression_bytes_out_total", lambda v: v > 0)


def test_node_ws_text_binary_fragmented(relay_factory):
    relay = relay_factory(COMPRESSED)
    try:
        result = run_node("deflate_peers.js", ["node", relay.url("/channels/node"), SIZES],
                          timeout=180)
    finally:
        kill_node_procs()
    assert result["ok"], result
    assert result["received"] == result["expected"] == len(SIZES) * 4
    for ext in result["extensions"]:
        assert ext == "permessage-deflate", ext  # ws lists the names agreed
    relay.wait_metric("wsrelay_compression_bytes_out_total", lambda v: v > 0)
    relay.wait_metric("wsrelay_messages_received_total", lambda v: v == len(SIZES) * 4)


def test_chromium_text_binary(relay_factory):
    relay = relay_factory(COMPRESSED)
    try:
        result = run_node("deflate_peers.js",
                          ["browser", relay.url("/", scheme="http"), SIZES], timeout=180)
    finally:
        kill_node_procs()
    assert result["ok"], result
    assert result["received"] == result["expected"] == len(SIZES) * 2
    for ext in result["extensions"]:
        assert ext.startswith("permessage-deflate"), ext
    relay.wait_metric("wsrelay_compression_bytes_out_total", lambda v: v > 0)


# --- a deflate bomb ------------------------------------------------------------------------

def test_deflate_bomb_closes_1009_and_rss_stays_bounded(relay_factory):
    relay = relay_factory({"channels": [{"match": "*", "compression": {"enabled": True}}]})
    # 1 GiB of zeros in about 1 MiB, sent as fragments of 16 KiB (each under the 64 KiB
    # wire limit, so only the inflate cap can stop it).
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    bomb = b"".join(c.compress(chunk) for _ in range(1024)) + c.flush(zlib.Z_SYNC_FLUSH)[:-4]
    assert len(bomb) < 1100000
    small = zlib.compressobj(9, zlib.DEFLATED, -15)
    little = small.compress(bytes(8 << 20)) + small.flush(zlib.Z_SYNC_FLUSH)[:-4]
    assert len(little) < 10000  # a few KiB that inflate to 8 MiB
    rss_before = relay.rss_kb()
    for z, step in ((little, 4096), (bomb, 16384)):
        cl = DeflateRaw(relay.port, "/channels/bomb")
        assert cl.extensions
        pieces = [z[i:i + step] for i in range(0, len(z), step)]
        try:
            for i, p in enumerate(pieces):
                cl.send_frame(0x2 if i == 0 else 0x0, p, fin=i == len(pieces) - 1, rsv1=i == 0)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed by the relay part way: expected
        frame = cl.read_frame()
        assert frame is not None and frame[0] & 0x0F == 0x8, frame
        assert struct.unpack("!H", frame[1][:2])[0] == 1009
        cl.close()
    # Inflating stopped at the 64 KiB message limit: far below the 8 MiB / 1 GiB.
    assert relay.rss_kb() - rss_before < 32 * 1024, (rss_before, relay.rss_kb())
    relay.wait_metric("wsrelay_connections_closed_total", lambda v: v >= 2, labels={"code": "1009"})
