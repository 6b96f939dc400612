// Fan-out at scale with Node `ws` on one raw channel. Each publisher p sends `p:seq` for
// seq = 0..PER_PUB-1 (text frames for even p, binary for odd p); every receiver checks that
// it gets every message of every other publisher exactly once, in order, with its type.
// Usage: node scale.js sub URL COUNT PUBLISHERS PER_PUB   (COUNT subscriber connections)
//        node scale.js pub URL PUBLISHERS PER_PUB         (the publishers, also receivers)
// stdout, one JSON object a line: {"ev":"ready"} when every connection is open, then
// {"ev":"done", ...summary} when every receiver is complete (or on SIGTERM / timeout).
'use strict';
const WebSocket = require('ws');

const [role, url, ...rest] = process.argv.slice(2);
const nums = rest.map(Number);
const count = nums[0];  // subscribers, or publishers
const publishers = role === 'sub' ? nums[1] : nums[0];
const perPub = role === 'sub' ? nums[2] : nums[1];
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const errors = [];
const error = (msg) => { if (errors.length < 20) errors.push(msg); };
let opened = 0;
let complete = 0;
let received = 0;
let closedEarly = 0;
let finished = false;

function makeReceiver(index, ownId) {
  const expected = ownId === undefined ? publishers * perPub : (publishers - 1) * perPub;
  const next = new Array(publishers).fill(0);
  let got = 0;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('open', () => { if (++opened === count) out({ ev: 'ready' }); });
  ws.on('message', (data, isBinary) => {
    received++;
    const [p, seq] = data.toString().split(':').map(Number);
    if (!(p >= 0 && p < publishers)) return error(`conn ${index}: unknown message ${data}`);
    if (p === ownId) return error(`conn ${index}: got its own message ${data}`);
    if (isBinary !== (p % 2 === 1)) error(`conn ${index}: type changed for ${data}`);
    if (seq !== next[p]) error(`conn ${index}: from ${p} expected ${next[p]} got ${seq}`);
    next[p] = seq + 1;
    if (++got === expected) { complete++; check(); }
    if (got > expected) error(`conn ${index}: more than ${expected} messages`);
  });
  ws.on('close', (code) => { if (got < expected) { closedEarly++; error(`conn ${index} closed ${code} after ${got}`); check(); } });
  ws.on('error', (e) => error(`conn ${index}: ${e.message}`));
  return ws;
}

const sockets = [];
function summary() {
  return { ev: 'done', role, connections: count, opened, complete, closedEarly, received, errors };
}
function finish() {
  if (finished) return;
  finished = true;
  out(summary());
  for (const ws of sockets) ws.close(1000);
  setTimeout(() => process.exit(0), 2000).unref();
}
function check() { if (complete + closedEarly === count) finish(); }

async function publish() {
  // Round-robin over publishers so they all send at once; respect each socket's buffer.
  for (let seq = 0; seq < perPub; seq++) {
    for (let p = 0; p < publishers; p++) {
      const msg = `${p}:${seq}`;
      sockets[p].send(p % 2 ? Buffer.from(msg) : msg, { binary: p % 2 === 1 });
    }
    if (seq % 100 === 99) {
      while (sockets.some((ws) => ws.bufferedAmount > 256 * 1024)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setImmediate(r));
    }
  }
  out({ ev: 'sent', messages: publishers * perPub });
}

if (role === 'sub') {
  for (let i = 0; i < count; i++) sockets.push(makeReceiver(i));
} else {
  for (let p = 0; p < publishers; p++) sockets.push(makeReceiver(p, p));
  const wait = setInterval(() => { if (opened === count) { clearInterval(wait); publish(); } }, 10);
}
process.on('SIGTERM', finish);
setTimeout(finish, 150000).unref();
