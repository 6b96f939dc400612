"""Headless Chromium (playwright-core + Debian's chromium) on the demo page at
GET /: two pages see each other's messages; the page (wsrelay.js on /ws) publishes
{"name", "text"}, which raw subscribers of /channels/demo receive as that JSON text, and
shows what a raw publisher sends; long words wrap, every message shows its time, and the
send button is disabled while the page is disconnected or its channel refused."""

import asyncio
import json
import os
import re

from harness import NODE_DIR, NODE_PATH, run, ws_connect, kill_node_procs


def test_two_pages_see_each_others_messages(relay):
    async def main():
        async with ws_connect(relay.url("/channels/demo")) as watcher:
            proc = await asyncio.create_subprocess_exec(
                "node", os.path.join(NODE_DIR, "browser.js"), relay.url("/", scheme="http"),
                stdout=asyncio.subprocess.PIPE, env=dict(os.environ, NODE_PATH=NODE_PATH))
            try:
                first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 90))
                assert first.get("ev") == "ready", first
                # What the pages put on the wire: JSON text frames with name and text.
                seen = []
                for _ in range(3):
                    msg = await asyncio.wait_for(watcher.recv(), 5)
                    assert isinstance(msg, str), msg
                    seen.append(json.loads(msg))
                assert {"name": "alice", "text": "hello from alice"} in seen, seen
                assert {"name": "bob", "text": "hi alice, bob here"} in seen, seen
                await watcher.send(json.dumps({"name": "python", "text": "hi from python"}))
                result = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
            finally:
                if proc.returncode is None:
                    try:
                        await asyncio.wait_for(proc.wait(), 30)
                    except asyncio.TimeoutError:
                        proc.kill()
                        await proc.wait()
        assert result["ok"], result
        assert any("hello from alice" in li for li in result["bob"]), result
        assert any("hi alice, bob here" in li for li in result["alice"]), result
        assert result["pwned"] is None and result["hostileImgs"] == 0, "the page renders messages as HTML"
        assert not result["errors"], result["errors"]  # uncaught exceptions in the page
        assert result["overflowing"] == 0, result  # a 400-character word wraps
        assert result["times"] and all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in result["times"]), result
        assert result["sendEnabledWhenOpen"] and result["sendDisabledWhenClosed"], result
        assert "disconnected" in result["closedStatus"], result
        assert result["sendDisabledWhenRefused"] and "refused" in result["refusedStatus"], result
    try:
        run(main(), timeout=150)
    finally:
        kill_node_procs()
