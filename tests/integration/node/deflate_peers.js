// permessage-deflate interop for tests/integration/test_deflate.py: a publisher and a
// subscriber on one raw channel, both negotiating compression, the publisher sending text
// and binary messages of the given sizes (whole and in 3 fragments where the client can
// fragment), the subscriber checking every byte.
// Usage: node deflate_peers.js node|browser URL SIZES_JSON
//   node:    two Node `ws` clients with perMessageDeflate (threshold 0: everything compressed)
//   browser: headless Chromium (which offers permessage-deflate itself); URL is the http://
//            base, the page is the demo page (same origin), the sockets are opened in it
// stdout, the last line: {"ok":B,"extensions":[SUB,PUB],"received":N,"expected":N,"error":S}
'use strict';

const [mode, url, sizesJson] = process.argv.slice(2);
const sizes = JSON.parse(sizesJson);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
setTimeout(() => { out({ ok: false, error: 'timeout' }); process.exit(3); }, 170000).unref();

// Deterministic payloads that compress partly: JSON-ish text, bytes half repeated.
// (The same function runs in the browser page.)
function payload(size, binary, seed) {
  const bytes = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0;
  const words = '{"user":"alice","text":"hello world","n":';
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (binary) bytes[i] = (i % 512) < 256 ? (x >>> 24) : (i & 0xff);
    else bytes[i] = (x >>> 28) === 0 ? 0x30 + ((x >>> 8) % 10) : words.charCodeAt(i % words.length);
  }
  return bytes;
}

function plan(fragments) {
  const list = [];
  let seed = 1;
  for (const size of sizes)
    for (const binary of [false, true])
      for (const frag of fragments ? [false, true] : [false]) list.push({ size, binary, frag, seed: seed++ });
  return list;
}

async function runNode() {
  const WebSocket = require('ws');
  const opts = { perMessageDeflate: { threshold: 0 }, maxPayload: 64 * 1024 * 1024 };
  const open = (u) => new Promise((resolve, reject) => {
    const ws = new WebSocket(u, opts);
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
  const sub = await open(url);
  const pub = await open(url);
  const todo = plan(true);
  const got = [];
  const done = new Promise((resolve) => {
    sub.on('message', (data, isBinary) => {
      got.push({ data: Buffer.from(data), isBinary });
      if (got.length === todo.length) resolve();
    });
    sub.on('close', () => resolve());
  });
  // The subscriber is in before the first publish (a round trip through the relay).
  await new Promise((r) => setTimeout(r, 200));
  for (const m of todo) {
    const data = Buffer.from(payload(m.size, m.binary, m.seed));
    const body = m.binary ? data : data.toString('latin1');
    if (!m.frag) {
      pub.send(body, { binary: m.binary, compress: true });
      continue;
    }
    // ws fragments with fin: false; compression runs over the fragments as one message.
    const cut = [Math.floor(m.size / 3), Math.floor((2 * m.size) / 3)];
    const parts = [data.subarray(0, cut[0]), data.subarray(cut[0], cut[1]), data.subarray(cut[1])];
    parts.forEach((p, i) =>
      pub.send(m.binary ? p : p.toString('latin1'), { binary: m.binary, compress: true, fin: i === 2 }));
  }
  await done;
  let error = '';
  todo.forEach((m, i) => {
    const want = Buffer.from(payload(m.size, m.binary, m.seed));
    const g = got[i];
    if (!error && (!g || g.isBinary !== m.binary || !g.data.equals(want)))
      error = `message ${i} (${m.size} B, binary ${m.binary}, fragmented ${m.frag}) differs`;
  });
  out({ ok: !error, extensions: [sub.extensions, pub.extensions], received: got.length,
        expected: todo.length, error });
  sub.close();
  pub.close();
}

async function runBrowser() {
  const { launchChromium } = require('./chromium');
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    const result = await page.evaluate(async ([todo, payloadSrc]) => {
      const payload = eval(`(${payloadSrc})`);  // the same generator as Node's
      const wsUrl = location.origin.replace(/^http/, 'ws') + '/channels/deflate-browser';
      const open = () => new Promise((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        ws.binaryType = 'arraybuffer';
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error('websocket error'));
      });
      const sub = await open();
      const pub = await open();
      const got = [];
      const done = new Promise((resolve) => {
        sub.onmessage = (e) => { got.push(e.data); if (got.length === todo.length) resolve(); };
        sub.onclose = () => resolve();
      });
      await new Promise((r) => setTimeout(r, 200));
      for (const m of todo) {
        const bytes = payload(m.size, m.binary, m.seed);
        pub.send(m.binary ? bytes : new TextDecoder('latin1').decode(bytes));  // ASCII text
      }
      await done;
      let error = '';
      todo.forEach((m, i) => {
        const want = payload(m.size, m.binary, m.seed);
        const g = got[i];
        let same;
        if (m.binary) {
          same = g instanceof ArrayBuffer && g.byteLength === want.length &&
                 new Uint8Array(g).every((b, j) => b === want[j]);
        } else {
          same = typeof g === 'string' && g === new TextDecoder('latin1').decode(want);
        }
        if (!error && !same) error = `message ${i} (${m.size} B, binary ${m.binary}) differs`;
      });
      const extensions = [sub.extensions, pub.extensions];
      sub.close();
      pub.close();
      return { ok: !error, extensions, received: got.length, expected: todo.length, error };
    }, [plan(false), payload.toString()]);
    out(result);
  } finally {
    await browser.close();
  }
}

(mode === 'browser' ? runBrowser() : runNode()).catch((e) => {
  out({ ok: false, error: String(e && e.stack || e) });
  process.exitCode = 1;
});
