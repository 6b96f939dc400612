#!/usr/bin/env python3
"""How connections spread over `workers: 2` (README "Scaling"), run by hand, once:
  reuseport  one SO_REUSEPORT listener per worker (the default): the kernel hashes each
             connection's addresses to one of them
  shared     one listening socket passed by systemd-socket-activate, in every worker's
             epoll: whichever worker accept()s first takes the connection
Opens CONNS WebSocket-less TCP connections in bursts of BURST, then reads
wsrelay_worker_connections. Usage: workers_spread.py WSRELAY_BIN [CONNS] [BURST]"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def per_worker(metrics_port):
    body = subprocess.run(["curl", "-s", f"http://127.0.0.1:{metrics_port}/metrics"],
                          capture_output=True, text=True).stdout
    return [int(float(v)) for _, v in sorted(re.findall(
        r'wsrelay_worker_connections\{worker="(\d+)"\} (\S+)', body))]


def run(binary, mode, conns, burst):
    port, mport = free_port(), free_port()
    d = tempfile.mkdtemp()
    cfg = os.path.join(d, "c.json")
    with open(cfg, "w") as f:
        json.dump({"listen": f"127.0.0.1:{port}", "metrics_listen": f"127.0.0.1:{mport}",
                   "workers": 2, "log_level": "warn",
                   "limits": {"max_connections": conns + 100}}, f)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    argv = [binary, "--config", cfg]
    if mode == "shared":
        argv = ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "--fdname=public"] + argv
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        socks = []
        if mode == "shared":  # the daemon starts at the first connection
            time.sleep(0.5)
            socks.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(1.0)
        while len(socks) < conns:
            for _ in range(min(burst, conns - len(socks))):
                socks.append(socket.create_connection(("127.0.0.1", port)))
            time.sleep(0.01)
        time.sleep(2.5)  # the other worker's count is copied once a second
        counts = per_worker(mport)
        for s in socks:
            s.close()
        return counts
    finally:
        p.terminate()
        p.wait(10)


def main():
    binary = sys.argv[1]
    conns = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    burst = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    for mode in ("reuseport", "shared"):
        c = run(binary, mode, conns, burst)
        print(f"{mode:10s} {conns} connections, bursts of {burst}: per worker {c}")


if __name__ == "__main__":
    main()
