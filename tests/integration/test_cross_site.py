"""Cross-site publishing through a visitor's browser (README "Securing wsrelay", HTTP publish:
cross-site requests), with headless Chromium (playwright-core + Debian's chromium): an
attacker's page, served from a second local HTTP server on another port (another origin),
makes the browser POST to the relay without CORS (a text/plain form into a hidden frame, a
no-cors fetch) and with a preflighted CORS fetch. The relay must publish none of them, with
`allowed_origins` set (also on a `publish: "http"` channel) and with the default
same-origin rule. A relay whose `allowed_origins` lists the attacker's origin is the
control: there the same page's requests are delivered, so the browser did send them."""

import asyncio
import html
import http.server
import json
import threading
import urllib.parse

import pytest

from harness import HOST, expect_silence, run, run_node, ws_connect

CHANNELS = ("x", "news")  # news: a publish: "http" channel (backends only)

ATTACK_PAGE = """<!doctype html>
<html><body>
<script>
const params = new URLSearchParams(location.search);
const tag = params.get('tag');
const targets = params.getAll('target');
const timeout = (ms) => new Promise((ok) => setTimeout(() => ok('timeout'), ms));

function formPost(url, i) {  // a text/plain form POST into a hidden frame: no CORS involved
  return new Promise((ok) => {
    const frame = document.createElement('iframe');
    frame.name = 'sink' + i;
    frame.style.display = 'none';
    document.body.appendChild(frame);
    const form = document.createElement('form');
    form.method = 'POST';
    form.enctype = 'text/plain';
    form.action = url;
    form.target = frame.name;
    const field = document.createElement('input');
    field.name = 'm';
    field.value = 'form-' + tag;
    form.appendChild(field);
    document.body.appendChild(form);
    frame.addEventListener('load', () => ok('loaded'), { once: true });
    form.submit();
  });
}

async function noCors(url) {  // an opaque response: the page cannot read it, the POST is sent
  try {
    await fetch(url, { method: 'POST', mode: 'no-cors', body: 'nocors-' + tag });
    return 'sent';
  } catch (e) {
    return 'error: ' + e;
  }
}

async function cors(url) {  // application/json needs a preflight
  try {
    const r = await fetch(url, { method: 'POST', mode: 'cors',
                                 headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify({ text: 'cors-' + tag }) });
    return 'status ' + r.status;
  } catch (e) {
    return 'blocked';
  }
}

(async () => {
  const result = { form: [], noCors: [], cors: [] };
  for (let i = 0; i < targets.length; i++) {
    result.form.push(await Promise.race([formPost(targets[i], i), timeout(10000)]));
    result.noCors.push(await Promise.race([noCors(targets[i]), timeout(10000)]));
    result.cors.push(await Promise.race([cors(targets[i]), timeout(10000)]));
  }
  document.body.dataset.result = JSON.stringify(result);
})();
</script>
</body></html>
"""


class AttackerSite:
    """The attacker's web server: another port on 127.0.0.1, so another origin."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = ATTACK_PAGE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.origin = f"http://{HOST}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page_for(self, relay, tag):
        targets = [relay.url(f"/channels/{ch}", scheme="http") for ch in CHANNELS]
        query = urllib.parse.urlencode([("tag", tag)] + [("target", t) for t in targets])
        return f"{self.origin}/attack?{query}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker():
    site = AttackerSite()
    yield site
    site.close()


def channel_config(extra=None):
    cfg = {"log_level": "debug", "channels": [{"match": "news", "publish": "http"}]}
    cfg.update(extra or {})
    return cfg


def test_cross_site_browser_posts_are_refused(relay_factory, attacker):
    relays = {
        "allowlist": relay_factory(channel_config({"allowed_origins": ["https://app.example"]})),
        "default": relay_factory(channel_config()),  # loopback same-origin only (port included)
        "control": relay_factory(channel_config({"allowed_origins": [attacker.origin]})),
    }

    async def main():
        subs = {}
        for name, relay in relays.items():
            for ch in CHANNELS:
                subs[name, ch] = await ws_connect(relay.url(f"/channels/{ch}"))
        pages = [attacker.page_for(relay, name) for name, relay in relays.items()]
        out = await asyncio.to_thread(run_node, "cross_site.js", pages, 150)
        assert out["ok"], out
        results = dict(zip(relays, out["pages"]))
        for name, res in results.items():
            # Every attempt settled in the browser (no timeout): the requests were made.
            assert res["form"] == ["loaded"] * len(CHANNELS), (name, res)
            assert res["noCors"] == ["sent"] * len(CHANNELS), (name, res)
        # The control relay allows the attacker's origin: all three ways were delivered, on
        # both channels (so the browser did send them, and the refusals below are the relay's).
        assert results["control"]["cors"] == ["status 200"] * len(CHANNELS), results["control"]
        for ch in CHANNELS:
            got = [await asyncio.wait_for(subs["control", ch].recv(), 10) for _ in range(3)]
            text = " ".join(m if isinstance(m, str) else m.decode() for m in got)
            for what in ("form-control", "nocors-control", "cors-control"):
                assert what in text, (ch, got)
        # The refusing relays: the preflight was refused, nothing was published.
        for name in ("allowlist", "default"):
            assert results[name]["cors"] == ["blocked"] * len(CHANNELS), (name, results[name])
            for ch in CHANNELS:
                await expect_silence(subs[name, ch], 1.0)
        for ws in subs.values():
            await ws.close()
    run(main(), timeout=180)

    for name in ("allowlist", "default"):
        relay = relays[name]
        assert relay.metric("wsrelay_messages_published_total", {"source": "http"}) == 0
        # The browser reached this relay (beyond the two subscribers): refused, not unsent.
        connected = relay.log_text().count("connected (public)")
        assert connected >= 3, (name, connected)
    relays["control"].wait_metric("wsrelay_messages_published_total",
                                  lambda v: v == 3 * len(CHANNELS), {"source": "http"})
