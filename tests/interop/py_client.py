"""A client on python3-websockets for the interop tests, against the engine's echo server.

    py_client.py <url> <plain|frag> <client|server> <code> <reason> <size>...

Sends a text and a binary message of each size, checks each echo exactly (type
included). "frag" sends each message as three fragments (an async iterable) and, between
the first two, a ping whose pong it waits for. "client" closes with <code> <reason>;
"server" asks the server to close with them. Prints "echo <type> <size> ok",
"pongs <n>" and "CLOSE <code> <reason>" (the close frame received); exit status 0 when
everything matched.
"""
import asyncio
import random
import sys

import websockets


def payload(text, size, seed):
    if not text:
        return random.Random(seed).randbytes(size)
    # 1- to 4-byte UTF-8 characters (11 bytes a round), rotated by the seed; "x" fills up.
    chars = ["a", "\u00e9", "\u20ac", "\U0001d11e", "Z"]
    unit = "".join(chars[seed % 5:] + chars[:seed % 5])
    return unit * (size // 11) + "x" * (size % 11)


async def fragments(ws, msg, counts):
    n = len(msg)
    a, b = n // 3, (2 * n) // 3
    yield msg[:a]
    pong = await ws.ping(b"mid-message")
    await asyncio.wait_for(pong, timeout=30)  # the engine answers inside ws_recv
    counts["pongs"] += 1
    yield msg[a:b]
    yield msg[b:]


async def main(url, mode, closer, code, reason, sizes):
    counts = {"pongs": 0}
    async with websockets.connect(url, max_size=None, compression=None,
                                  ping_interval=None, close_timeout=10) as ws:
        seed = 0
        for size in sizes:
            for binary in (False, True):
                p = payload(not binary, size, seed)
                seed += 1
                if mode == "frag" and len(p) >= 3:
                    await ws.send(fragments(ws, p, counts))
                else:
                    await ws.send(p)
                got = await asyncio.wait_for(ws.recv(), timeout=120)
                kind = "binary" if binary else "text"
                if type(got) is not type(p) or got != p:
                    print(f"FAIL echo {kind} {size}: got {len(got)} {type(got).__name__}")
                    return 1
                print(f"echo {kind} {size} ok", flush=True)
        if closer == "client":
            await ws.close(code, reason)
        else:
            await ws.send(f"close:{code}:{reason}")
            try:
                await asyncio.wait_for(ws.recv(), timeout=30)
            except websockets.ConnectionClosed:
                pass
        await ws.wait_closed()
        print(f"pongs {counts['pongs']}")
        print(f"CLOSE {ws.close_code} {ws.close_reason}", flush=True)
    return 0


if __name__ == "__main__":
    url, mode, closer, code, reason = sys.argv[1:6]
    sizes = [int(s) for s in sys.argv[6:]]
    sys.exit(asyncio.run(asyncio.wait_for(main(url, mode, closer, int(code), reason, sizes),
                                          timeout=240)))
