"""An echo server on python3-websockets (Debian, an independent implementation).

    /usr/bin/python3 py_echo_server.py   -> prints "PORT <n>" (127.0.0.1, a free port)

Paths: "/frag" echoes each message as three fragments (websockets sends an async
iterable as one fragmented message) with a ping between the first two; any other path
echoes whole. A text message "close:<code>:<reason>" makes the server close with that
code and reason. Prints "pongs <n>" (answers to its pings, which it waits for between
fragments) and "close <code> <reason>" (the close frame it received) per connection.
"""
import asyncio
import sys

import websockets


async def fragments(ws, msg, counts):
    n = len(msg)
    a, b = n // 3, (2 * n) // 3
    yield msg[:a]
    # RFC 6455 §5.4: control frames may come between fragments; the message cannot go on
    # until the client has answered this ping (§5.5.2).
    pong = await ws.ping(b"between fragments")
    await asyncio.wait_for(pong, timeout=30)
    counts["pongs"] += 1
    yield msg[a:b]
    yield msg[b:]


async def handler(ws, path=None):
    frag = ws.path.startswith("/frag")
    counts = {"pongs": 0}
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("close:"):
                _, code, reason = msg.split(":", 2)
                await ws.close(int(code), reason)
                break
            if frag and len(msg) >= 3:
                await ws.send(fragments(ws, msg, counts))
            else:
                await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()
    print(f"pongs {counts['pongs']}", flush=True)
    print(f"close {ws.close_code} {ws.close_reason}", flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None,
                                ping_interval=None) as server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.sleep(600)  # bounded life: the tests stop it long before


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
