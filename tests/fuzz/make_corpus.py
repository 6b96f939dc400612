#!/usr/bin/python3
"""Writes the seed corpora of the WebSocket fuzz targets.

    /usr/bin/python3 tests/fuzz/make_corpus.py

tests/fuzz/corpus/frame_parser_fuzz/seed_*: byte 0 = mode (chunking and limits, see
frame_parser_fuzz.cpp), then the byte stream one side receives (RFC 6455 §5.7 examples,
every protocol-error class, fragments with interleaved control frames, UTF-8 edges).
tests/fuzz/corpus/handshake_fuzz/seed_*: byte 0 = limits mode, then an HTTP head
(real browser requests, the RFC example, responses, malformed heads).
Files not named seed_* in those directories (crashers, minimised finds) are left alone.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RFC_KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def frame(op, payload=b"", fin=True, rsv=0, key=None, length=None):
    """One RFC 6455 §5.2 frame; key set = masked. length overrides the encoded length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    m = 0x80 if key is not None else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n <= 0xFFFF:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if key is None:
        return head + payload
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def c(op, payload=b"", **kw):  # client-to-server (masked)
    return frame(op, payload, key=RFC_KEY, **kw)


def s(op, payload=b"", **kw):  # server-to-client (unmasked)
    return frame(op, payload, **kw)


def close(code, reason=b""):
    return struct.pack(">H", code) + reason


TEXT, BIN, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10

FRAMES = {
    "rfc_masked_hello": c(TEXT, b"Hello"),
    "rfc_unmasked_hello": s(TEXT, b"Hello"),
    "rfc_fragmented_hello": s(TEXT, b"Hel", fin=False) + s(CONT, b"lo"),
    "rfc_fragmented_hello_masked": c(TEXT, b"Hel", fin=False) + c(CONT, b"lo"),
    "rfc_ping_pong": s(PING, b"Hello") + c(PONG, b"Hello"),
    "rfc_ping_masked": c(PING, b"Hello"),
    "len_126": c(BIN, bytes(range(256)) + b"x" * 44),
    "len_126_unmasked": s(BIN, b"y" * 300),
    "len_127_header_only": s(BIN, b"", length=70000),
    "len_127_masked_header_only": c(BIN, b"", length=70000),
    "len_msb_set": bytes([0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]),
    "interleaved_control": c(TEXT, b"frag1 ", fin=False) + c(PING, b"p1") + c(CONT, b"frag2 ", fin=False)
    + c(PONG, b"p2") + c(CONT, b"frag3") + c(BIN, b"next"),
    "interleaved_control_unmasked": s(BIN, b"a", fin=False) + s(PING) + s(CONT, b"b", fin=False) + s(CONT, b"c"),
    "empty_fragments": c(BIN, fin=False) + c(CONT, fin=False) + c(CONT) + c(TEXT),
    "utf8_split_across_fragments": c(TEXT, b"a\xe2", fin=False) + c(CONT, b"\x82", fin=False) + c(CONT, b"\xacz"),
    "utf8_invalid_text": c(TEXT, b"ab\xff"),
    "utf8_surrogate": c(TEXT, b"\xed\xa0\x80"),
    "utf8_truncated_end": c(TEXT, b"a", fin=False) + c(CONT, b"\xe2\x82"),
    "utf8_failfast_partial": c(TEXT, b"abc\xc0" + b"x" * 200)[:20],
    "utf8_kosme": s(TEXT, "κόσμε €😀".encode()),
    "close_1000_reason": c(CLOSE, close(1000, b"bye")),
    "close_empty": s(CLOSE),
    "close_one_byte": c(CLOSE, b"\x03"),
    "close_1005": c(CLOSE, close(1005)),
    "close_4999": s(CLOSE, close(4999, b"app")),
    "close_bad_reason": c(CLOSE, close(1000, b"\xc0\xaf")),
    "close_then_data": c(TEXT, b"last") + c(CLOSE, close(1001)) + c(TEXT, b"after"),
    "rsv1": c(TEXT, b"x", rsv=4),
    "rsv_all": s(BIN, b"x", rsv=7),
    "reserved_opcode_3": c(3, b"x"),
    "reserved_opcode_b": s(0xB),
    "ping_fragmented": c(PING, b"x", fin=False),
    "ping_126": c(PING, b"p" * 126),
    "ping_125": c(PING, b"p" * 125),
    "continuation_without_start": c(CONT, b"x"),
    "data_inside_fragmented": c(TEXT, b"a", fin=False) + c(TEXT, b"b"),
    "unmasked_to_server": s(TEXT, b"Hello") + c(TEXT, b"Hello"),
}

# Mode bytes: 0 = one byte at a time; 0x07 / 0x3F = chunks of 1..8 / 1..64 bytes;
# 0x80 | x = small limits (1009 paths, outgoing fragmentation when 0x40 is set).
MODES = {"whole": 0x3F, "bytes": 0x00, "chunks": 0x07}

SMALL_LIMITS = {
    "limit_single_frame": (0x80, c(BIN, b"z" * 100)),
    "limit_fragments_count": (0x81, c(TEXT, b"a", fin=False) + c(CONT, b"b", fin=False) + c(CONT, b"c")),
    "limit_fragmented_total": (0x83, c(BIN, b"1" * 60, fin=False) + c(PING, b"p") + c(CONT, b"2" * 60)),
    "limit_out_fragmentation": (0xC4, c(TEXT, b"echo me in pieces please") + s(TEXT, b"and me too")),
}

REQUEST_CHROME = (
    b"GET /chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1:42313\r\nConnection: Upgrade\r\n"
    b"Pragma: no-cache\r\nCache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"HeadlessChrome/156.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\nOrigin: http://127.0.0.1:42313\r\n"
    b"Sec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Key: sbtGO+vD9Yu9+FSvGtnPAA==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
)
REQUEST_FIREFOX = (
    b"GET /ws HTTP/1.1\r\nHost: localhost:8080\r\nSec-WebSocket-Version: 13\r\n"
    b"Origin: http://localhost:8080\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
)
REQUEST_RFC = (
    b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE_RFC = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
)

HEADS = {
    "chrome_request": REQUEST_CHROME,
    "firefox_request": REQUEST_FIREFOX,
    "rfc_request": REQUEST_RFC,
    "rfc_request_with_frame": REQUEST_RFC + c(TEXT, b"Hello"),
    "rfc_response": RESPONSE_RFC,
    "response_no_reason": b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    "response_426": b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
    "lf_only": REQUEST_RFC.replace(b"\r\n", b"\n"),
    "leading_empty_lines": b"\r\n\r\n" + REQUEST_RFC,
    "version_8": REQUEST_RFC.replace(b"Version: 13", b"Version: 8"),
    "no_version": REQUEST_RFC.replace(b"Sec-WebSocket-Version: 13\r\n", b""),
    "no_key": REQUEST_RFC.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""),
    "bad_key": REQUEST_RFC.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"dGhlIHNhbXBsZSBub25jZQ="),
    "two_hosts": REQUEST_RFC.replace(b"Host:", b"Host: a\r\nHost:"),
    "post": REQUEST_RFC.replace(b"GET", b"POST"),
    "http10": REQUEST_RFC.replace(b"HTTP/1.1", b"HTTP/1.0"),
    "space_before_colon": REQUEST_RFC.replace(b"Host:", b"Host :"),
    "obs_fold": REQUEST_RFC.replace(b"Origin:", b" folded\r\nOrigin:"),
    "nul_in_value": REQUEST_RFC.replace(b"example.com\r\n", b"exa\x00mple.com\r\n", 1),
    "many_headers": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n",
    "long_header": b"GET / HTTP/1.1\r\nCookie: " + b"c" * 3000 + b"\r\n\r\n",
    "truncated": REQUEST_RFC[:60],
}


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def main():
    modes = list(MODES.items())
    for i, (name, stream) in enumerate(FRAMES.items()):
        mode_name, mode = modes[i % len(modes)]  # the fuzzer mutates byte 0 anyway
        write("frame_parser_fuzz", f"{name}.{mode_name}", bytes([mode]) + stream)
    for name, (mode, stream) in SMALL_LIMITS.items():
        write("frame_parser_fuzz", name, bytes([mode]) + stream)
    for name, head in HEADS.items():
        write("handshake_fuzz", name, b"\x00" + head)
    write("handshake_fuzz", "small_limits_chrome", b"\x85" + REQUEST_CHROME)
    write("handshake_fuzz", "small_limits_rfc", b"\xbf" + REQUEST_RFC)


if __name__ == "__main__":
    main()
