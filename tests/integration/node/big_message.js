// Sends one message over the relay's limit from a Node WebSocket library, RUNS times in a
// row (a fresh connection each), and prints the close code each run saw, for
// test_clean_close.py. A relay that closes its socket with unread input makes the kernel
// send RST and the client sees 1006 (or ECONNRESET) instead of the relay's 1009.
// Usage: node big_message.js ws|faye|websocket URL RUNS BYTES
// stdout: one JSON object: {"codes": [1009, ...]} (-1 = no close within 10 s).
'use strict';

const [lib, url, runsArg, bytesArg] = process.argv.slice(2);
const runs = Number(runsArg);
const payload = Buffer.alloc(Number(bytesArg), 0x61);  // binary: no UTF-8 check needed
const kRunTimeoutMs = 10000;

// Each opener connects, sends `payload` once open, and calls done(code) exactly once.
const openers = {
  ws(done) {
    const WebSocket = require('ws');
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => ws.send(payload));
    ws.on('error', () => {});  // the close event follows with 1006
    ws.on('close', (code) => done(code));
  },
  faye(done) {
    const WebSocket = require('faye-websocket');
    const ws = new WebSocket.Client(url);
    ws.on('open', () => ws.send(payload));
    ws.on('close', (event) => done(event.code));
  },
  websocket(done) {
    const WebSocketClient = require('websocket').client;
    const client = new WebSocketClient();
    client.on('connectFailed', () => done(-2));
    client.on('connect', (conn) => {
      conn.on('error', () => {});
      conn.on('close', (code) => done(code));
      conn.sendBytes(payload);
    });
    client.connect(url);
  },
};

function once(open) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(code);
    };
    const timer = setTimeout(() => finish(-1), kRunTimeoutMs);
    open(finish);
  });
}

(async () => {
  const open = openers[lib];
  if (!open) throw new Error(`unknown library ${lib}`);
  const codes = [];
  for (let i = 0; i < runs; i++) codes.push(await once(open));
  process.stdout.write(JSON.stringify({ codes }) + '\n');
  process.exit(0);
})();
