"""Shared helpers for the interop tests: start a server process that prints "PORT <n>",
collect its output lines, run a client with a timeout. Every process is bounded in time
and stopped at the end of its test. Binaries come from CTest's environment (see
CMakeLists.txt): WS_PEER, ECHO_SERVER, SEED_EXAMPLE, NODE, NODE_PATH."""
import os
import queue
import re
import subprocess
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
SIZES = [0, 125, 126, 65535, 65536, 16 << 20]


def need(name):
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set (run through ctest -L interop)")
    return value


class Process:
    """A background process whose stdout lines are collected by a reader thread."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern, timeout=30):
        """Waits for an output line matching `pattern`; returns the match."""
        rx = re.compile(pattern)
        for line in self.seen:
            m = rx.fullmatch(line)
            if m:
                return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            m = rx.fullmatch(line)
            if m:
                return m
        raise AssertionError(f"{self.argv[0]}: no line matching {pattern!r}; got {self.seen}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_server(argv, env=None):
    p = Process(argv, env)
    p.port = int(p.expect(r"PORT (\d+)", timeout=20).group(1))
    return p


def run(argv, timeout=240, env=None):
    """Runs a client to completion; returns (exit status, output lines)."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=env)
    return r.returncode, r.stdout.splitlines()


def node_env():
    env = dict(os.environ)
    env["NODE_PATH"] = need("NODE_PATH")
    return env


@pytest.fixture
def echo_server():
    """The engine's echo server (lib/examples/echo_server.c)."""
    p = start_server([need("ECHO_SERVER")])
    yield p
    p.stop()


@pytest.fixture(params=["node", "python"])
def library_server(request):
    """An echo server on an independent library: Node `ws` or python3-websockets."""
    if request.param == "node":
        argv = [need("NODE"), os.path.join(HERE, "node_echo_server.js")]
        p = start_server(argv, node_env())
    else:
        p = start_server([PYTHON, os.path.join(HERE, "py_echo_server.py")])
    p.kind = request.param
    yield p
    p.stop()
