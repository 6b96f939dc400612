#!/usr/bin/python3
"""Writes the seed corpora of the WebSocket fuzz targets.

    /usr/bin/python3 tests/fuzz/make_corpus.py

tests/fuzz/corpus/frame_parser_fuzz/seed_*: byte 0 = mode (chunking and limits, see
frame_parser_fuzz.cpp), then the byte stream one side receives (RFC 6455 §5.7 examples,
every protocol-error class, fragments with interleaved control frames, UTF-8 edges).
tests/fuzz/corpus/handshake_fuzz/seed_*: byte 0 = limits mode, then an HTTP head
(real browser requests, the RFC example, responses, malformed heads).
tests/fuzz/corpus/wire_fuzz/seed_*: one /ws text frame (README examples, every error).
tests/fuzz/corpus/config_fuzz/seed_*: a config file (the example, every key, every error).
tests/fuzz/corpus/http_request_fuzz/seed_*: byte 0 = limits/demo/origins mode, then a
request head for each route of the public and metrics listeners.
Files not named seed_* in those directories (crashers, minimised finds) are left alone.
"""
import json
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
    "lf_only": REQUEST_RFC.replace(b"\r\n", b"\n"),  # a request: 400
    "lf_in_one_line": REQUEST_RFC.replace(b"Upgrade\r\n", b"Upgrade\n", 1),
    "response_lf_only": RESPONSE_RFC.replace(b"\r\n", b"\n"),  # a response: accepted
    "http20": REQUEST_RFC.replace(b"HTTP/1.1", b"HTTP/2.0"),  # 505
    "http09": b"GET / HTTP/0.9\r\n\r\n",
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


# One /ws text frame each (README "The JSON protocol on /ws").
def nest(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


WIRE = {
    "subscribe": '{"op":"subscribe","channel":"chat","id":1}',
    "unsubscribe": '{"op":"unsubscribe","channel":"chat","id":"u-1"}',
    "publish_data": '{"op":"publish","channel":"chat","data":{"says":"hi","n":[1,2.5,-0,1e-7,null,true]},"id":2}',
    "publish_text": r'{"op":"publish","channel":"chat","text":"hello \u00e9 \ud83d\ude00"}',
    "publish_binary": '{"op":"publish","channel":"chat","binary":"AAECAw==","id":3}',
    "publish_binary_one_pad": '{"op":"publish","channel":"c","binary":"QUI="}',
    "publish_binary_empty": '{"op":"publish","channel":"c","binary":""}',
    "ping": '{"op":"ping","id":4}',
    "ping_no_id": '{"op":"ping"}',
    "unknown_op": '{"op":"jump","id":3}',
    "id_float": '{"op":"ping","id":1.5}',
    "id_null": '{"op":"ping","id":null}',
    "id_big": '{"op":"ping","id":123456789012345678901234567890}',
    "id_negative": '{"op":"subscribe","channel":"a","id":-9223372036854775808}',
    "missing_op": '{"channel":"chat","id":5}',
    "op_not_string": '{"op":1,"id":6}',
    "missing_channel": '{"op":"subscribe","id":7}',
    "channel_not_string": '{"op":"publish","channel":["x"],"data":1}',
    "two_payloads": '{"op":"publish","channel":"c","data":1,"text":"x","id":8}',
    "no_payload": '{"op":"publish","channel":"c","id":9}',
    "text_not_string": '{"op":"publish","channel":"c","text":5}',
    "binary_not_string": '{"op":"publish","channel":"c","binary":[1]}',
    "binary_bad_length": '{"op":"publish","channel":"c","binary":"QUJ"}',
    "binary_bad_char": '{"op":"publish","channel":"c","binary":"QU*D"}',
    "binary_trailing_newlines": r'{"op":"publish","channel":"c","binary":"QQ==\n\n\n\n"}',
    "binary_inner_padding": '{"op":"publish","channel":"c","binary":"QQ==QUJD"}',
    "binary_all_padding": '{"op":"publish","channel":"c","binary":"===="}',
    "duplicate_keys": '{"op":"ping","op":"subscribe","channel":"a","channel":"b"}',
    "not_object": '[{"op":"ping"}]',
    "string_doc": '"ping"',
    "malformed": '{"op":"ping",',
    "trailing_garbage": '{"op":"ping"} x',
    "empty": "",
    "invalid_utf8": b'{"op":"publish","channel":"c","text":"\\u00e9\xff"}',
    "lone_surrogate": r'{"op":"publish","channel":"c","text":"\ud800"}',
    "depth_64": '{"op":"publish","channel":"c","data":' + nest(63) + "}",
    "depth_65": '{"op":"publish","channel":"c","data":' + nest(64) + "}",
    "brackets_in_string": '{"op":"publish","channel":"c","data":"' + "[" * 80 + r'\"{{"}',
    "deep_garbage": "[" * 2000,
    "nul_then_garbage": '{"op":"ping"}\x00' + "[" * 70,  # nlohmann stops at NUL
}

EXAMPLE_CONFIG = os.path.join(HERE, "..", "..", "config", "wsrelay.example.json")

CONFIGS = {
    "empty_object": "{}",
    "minimal": '{"listen": "127.0.0.1:8080"}',
    "every_key": json.dumps({
        "listen": "[::1]:9000", "metrics_listen": "", "log_level": "debug", "demo": False,
        "tls": None, "allowed_origins": ["https://App.Example.com", "*"], "subprotocols": ["chat.v1"],
        "limits": {"max_connections": 5, "max_message_bytes": 1000, "max_fragments": 3,
                   "max_queue_bytes": 2048, "queue_soft_bytes": 1024, "queue_soft_seconds": 2,
                   "handshake_timeout_ms": 500, "max_header_bytes": 4096, "max_headers": 10,
                   "ping_interval_ms": 1000, "pong_timeout_ms": 2000,
                   "max_channels_per_client": 7, "drain_timeout_ms": 0},
        "channels": [{"match": "chat.*", "echo": True, "max_subscribers": 3, "max_message_bytes": 100,
                      "publish": "clients"}, {"match": "news", "publish": "http"}, {"match": "*"}]}),
    "tls": '{"tls": {"cert": "/etc/wsrelay/cert.pem", "key": "/etc/wsrelay/key.pem"}}',
    "limits_max": json.dumps({"limits": {"max_connections": 10000000, "max_queue_bytes": 1099511627776,
                                         "queue_soft_bytes": 1099511627776, "max_headers": 10000},
                              "channels": [{"match": "a", "max_subscribers": 4294967295}]}),
    "unknown_key": '{"listen": "127.0.0.1:1", "bogus": 1}',
    "unknown_nested_key": '{"limits": {"max_conections": 5}}',
    "unknown_key_in_channel": '{"channels": [{"match": "a"}, {"match": "b", "x": 1}]}',
    "key_with_slash": '{"a/b~c": 1}',
    "key_with_quote": """{"it's: 'x'": 1}""",
    "wrong_type": '{"demo": "yes"}',
    "fraction": '{"limits": {"max_headers": 1.5}}',
    "top_level_array": "[1, 2]",
    "nullable_wrong_type": '{"tls": 5}',
    "out_of_range_low": '{"limits": {"max_connections": 0}}',
    "out_of_range_high": '{"limits": {"handshake_timeout_ms": 600001}}',
    "negative": '{"channels": [{"match": "a", "max_subscribers": -1}]}',
    "bad_enum": '{"log_level": "loud"}',
    "bad_listen": '{"listen": "[1::2::3]:80", "metrics_listen": "300.1.1.1:9"}',
    "same_port": '{"listen": "0.0.0.0:8080", "metrics_listen": "127.0.0.1:8080"}',
    "bad_channel_pattern": '{"channels": [{"match": "a*b"}]}',
    "missing_required": '{"channels": [{"echo": true}], "tls": {"cert": "/c.pem"}}',
    "origins_semantic": '{"allowed_origins": ["null", "https://a.example/x", "https://a.example:443", '
                        '"http://a.example:0", "http://[::1]:8080"]}',
    "bad_subprotocol": '{"subprotocols": ["chat v1"]}',
    "soft_over_hard": '{"limits": {"max_queue_bytes": 4096, "queue_soft_bytes": 8192}}',
    "malformed": '{"listen": "127.0.0.1:1",\n "demo": tru }',
    "trailing_garbage": "{} x",
    "nested_deep": '{"limits": ' + nest(500) + "}",
    "nul_then_garbage": '{}\x00{"bogus": 1}',
    "origin_max_length": json.dumps({"allowed_origins": ["http://" + "a" * 300]}),
    "origin_too_long": json.dumps({"allowed_origins": ["http://" + "a" * 301]}),
}

HTTP_ORIGIN = b"http://127.0.0.1:8080"


def upgrade(target, origin=HTTP_ORIGIN, host=b"127.0.0.1:8080", extra=b""):
    head = (b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n")
    if origin is not None:
        head += b"Origin: " + origin + b"\r\n"
    return head + extra + b"\r\n"


# Mode byte: 0x40 demo page on, 0x10 / 0x20 / 0x30 allowed_origins = list / list with "*" /
# empty list, 0x80 small parser limits.
ROUTES = {
    "upgrade_raw": (0x00, upgrade(b"/channels/chat.room-1")),
    "upgrade_raw_query": (0x00, upgrade(b"/channels/news?since=10&x=?")),
    "upgrade_raw_empty_name": (0x00, upgrade(b"/channels/")),
    "upgrade_json": (0x40, upgrade(b"/ws", extra=b"Sec-WebSocket-Protocol: chat, superchat\r\n")),
    "upgrade_no_origin": (0x00, upgrade(b"/ws", origin=None)),
    "upgrade_cross_origin": (0x00, upgrade(b"/ws", origin=b"https://evil.example")),
    "upgrade_origin_null": (0x20, upgrade(b"/ws", origin=b"null")),
    "upgrade_origin_default_port": (0x00, upgrade(b"/ws", origin=b"http://localhost", host=b"localhost:80")),
    "upgrade_origin_https": (0x00, upgrade(b"/ws", origin=b"https://[::1]", host=b"[::1]:443")),
    "upgrade_origin_case": (0x10, upgrade(b"/ws", origin=b"HTTPS://A.Example:8443")),
    "upgrade_origin_listed": (0x10, upgrade(b"/channels/a", origin=b"http://example.com")),
    "upgrade_empty_list": (0x30, upgrade(b"/channels/a")),
    "upgrade_version_8": (0x00, upgrade(b"/ws").replace(b"Version: 13", b"Version: 8")),
    "publish": (0x00, b"POST /channels/chat HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"),
    "publish_query": (0x00, b"POST /channels/x?y HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
    "get_channel_no_upgrade": (0x00, b"GET /channels/x HTTP/1.1\r\nHost: h\r\n\r\n"),
    "delete_channel": (0x00, b"DELETE /channels/x HTTP/1.1\r\nHost: h\r\n\r\n"),
    "put_ws": (0x00, b"PUT /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
    "healthz": (0x00, b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"),
    "readyz_head": (0x00, b"HEAD /readyz?probe=1 HTTP/1.1\r\nHost: h\r\n\r\n"),
    "post_healthz": (0x00, b"POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
    "demo": (0x40, b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n"),
    "demo_off": (0x00, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    "metrics": (0x00, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: text/plain\r\n\r\n"),
    "not_found": (0x00, b"GET /nope HTTP/1.0\r\n\r\n"),
    "absolute_form": (0x00, b"GET http://h/channels/x HTTP/1.1\r\nHost: h\r\n\r\n"),
    "small_limits": (0x84, upgrade(b"/channels/chat")),
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
    for name, text in WIRE.items():
        write("wire_fuzz", name, text if isinstance(text, bytes) else text.encode())
    with open(EXAMPLE_CONFIG, "rb") as f:
        write("config_fuzz", "example", f.read())
    for name, text in CONFIGS.items():
        write("config_fuzz", name, text.encode())
    for name, (mode, head) in ROUTES.items():
        write("http_request_fuzz", name, bytes([mode]) + head)


if __name__ == "__main__":
    main()
