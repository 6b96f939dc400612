#!/usr/bin/env python3
"""The example app of compose.yaml: a backend that publishes a JSON message on a wsrelay
channel over HTTP every few seconds (POST /channels/{name}). Browsers subscribe with
`new WebSocket("ws://localhost:8080/channels/news")`. Standard library only.

Environment: PUBLISH_URL (default http://wsrelay:8080/channels/news), PUBLISH_INTERVAL in
seconds (5), PUBLISH_COUNT (0 = forever). Exits 0 on SIGTERM, or after PUBLISH_COUNT
messages that all reached the relay.
"""
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

URL = os.environ.get("PUBLISH_URL", "http://wsrelay:8080/channels/news")
INTERVAL = float(os.environ.get("PUBLISH_INTERVAL", "5"))
COUNT = int(os.environ.get("PUBLISH_COUNT", "0"))


def publish(seq: int) -> int:
    """POSTs message `seq`; returns how many subscribers the relay delivered it to."""
    # "name" + "text" is the demo page's format, so /?channel=news shows these messages.
    body = json.dumps({"name": "app", "seq": seq, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "text": f"news item {seq}"}).encode()
    req = urllib.request.Request(URL, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return int(json.load(resp).get("delivered", 0))


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    seq, failures = 0, 0
    while COUNT == 0 or seq < COUNT:
        try:
            delivered = publish(seq)
            print(f"published {seq} to {URL}: delivered to {delivered}", flush=True)
            seq += 1
        except (urllib.error.URLError, OSError, ValueError) as e:
            failures += 1
            print(f"publish {seq} failed: {e}", file=sys.stderr, flush=True)
            if COUNT and failures > 10:
                return 1
        time.sleep(INTERVAL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
