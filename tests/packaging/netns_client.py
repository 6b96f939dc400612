#!/usr/bin/env python3
"""Client side of test_systemd_unit.py, run with the host's python3-websockets inside the
systemd container's network namespace (`nsenter -t PID -n`), so it reaches the relay on that
container's 127.0.0.1 directly: no published port, no docker-proxy in between (which would
accept a connection and then drop it, hiding a refusal). Prints one JSON line.

  netns_client.py connections PORT N     open N WebSockets at once: {"open": k, "refused": [...]}
  netns_client.py relay PORT             subscribe, POST, receive: {"got": "..."}
  netns_client.py connect-loop PORT SEC  connect+close as fast as possible for SEC seconds:
                                         {"ok": n, "refused": n, "other": [...]}
$WSRELAY_TOKEN: the token WebSockets send (?token=), as the packaged config requires one.
"""
import asyncio
import http.client
import json
import os
import socket
import sys
import time

import websockets

QUERY = f"?token={os.environ['WSRELAY_TOKEN']}" if os.environ.get("WSRELAY_TOKEN") else ""


async def connections(port, n):
    opened, refused = [], []
    for _ in range(n):
        try:
            opened.append(await websockets.connect(f"ws://127.0.0.1:{port}/channels/x{QUERY}",
                                                   open_timeout=5, close_timeout=1))
        except websockets.InvalidStatusCode as e:  # the 503 of max_connections
            refused.append(e.status_code)
    for ws in opened:
        await ws.close()
    return {"open": len(opened), "refused": refused}


async def relay(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/channels/news{QUERY}",
                                  open_timeout=5, close_timeout=1) as ws:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        await asyncio.to_thread(conn.request, "POST", "/channels/news", b"under systemd",
                                {"Content-Type": "text/plain"})
        status = (await asyncio.to_thread(conn.getresponse)).status
        return {"status": status, "got": await asyncio.wait_for(ws.recv(), 5)}


def connect_loop(port, seconds):
    ok, refused, other = 0, 0, []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                ok += 1
        except ConnectionRefusedError:
            refused += 1
        except OSError as e:
            other.append(repr(e))
        time.sleep(0.002)
    return {"ok": ok, "refused": refused, "other": other[:10]}


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "connections":
        out = asyncio.run(connections(port, int(sys.argv[3])))
    elif cmd == "relay":
        out = asyncio.run(relay(port))
    else:
        out = connect_loop(port, float(sys.argv[3]))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
