// A client on Node's `ws` for the interop tests, against the engine's echo server.
//   node node_client.js <url> <plain|frag> <client|server> <code> <reason> <size>...
// Sends a text and a binary message of each size (deterministic payloads; text mixes
// 1- to 4-byte UTF-8), checks each echo byte for byte and its type. "frag" sends each
// message as three fragments and, between the first two, a ping whose pong it waits
// for (the engine must answer control frames in the middle of a message).
// "client": closes with <code> <reason>; "server": asks the server to close with them
// ("close:<code>:<reason>"). Prints "echo <type> <size> ok", "pongs <n>" and
// "CLOSE <code> <reason>" (the close frame received); exit status 0 when all matched.
'use strict';
const WebSocket = require('ws');

const [url, mode, closer, code, reason, ...sizes] = process.argv.slice(2);
setTimeout(() => { console.log('FAIL timeout'); process.exit(3); }, 240000).unref();

function payload(text, size, seed) {
  if (!text) {
    const b = Buffer.alloc(size);
    let x = (seed * 2654435761 + 1) >>> 0;
    for (let i = 0; i < size; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  }
  // 1- to 4-byte UTF-8 characters (11 bytes a round), rotated by the seed; "x" fills up.
  const chars = ['a', '\u00e9', '\u20ac', '\u{1d11e}', 'Z'];
  const unit = Buffer.from(chars.slice(seed % 5).concat(chars.slice(0, seed % 5)).join(''));
  const rounds = Math.floor(size / unit.length);
  const body = rounds ? Buffer.alloc(rounds * unit.length, unit) : Buffer.alloc(0);
  return Buffer.concat([body, Buffer.alloc(size % unit.length, 'x')]);
}

const ws = new WebSocket(url, { maxPayload: 64 << 20, perMessageDeflate: false });
const inbox = [];
let waiter = null;
let pongWaiter = null;
let pongs = 0;
ws.on('message', (data, isBinary) => {
  inbox.push({ data, isBinary });
  if (waiter) { const w = waiter; waiter = null; w(); }
});
ws.on('pong', () => { pongs += 1; if (pongWaiter) { const w = pongWaiter; pongWaiter = null; w(); } });
const next = () => new Promise((resolve) => {
  if (inbox.length) resolve(inbox.shift());
  else waiter = () => resolve(inbox.shift());
});
const pong = () => new Promise((resolve) => { pongWaiter = resolve; });

async function send(data, binary) {
  if (mode !== 'frag' || data.length < 3) { ws.send(data, { binary }); return; }
  const a = Math.floor(data.length / 3), b = Math.floor((2 * data.length) / 3);
  ws.send(data.subarray(0, a), { binary, fin: false });
  const got = pong();
  ws.ping('mid-message');
  await got;
  ws.send(data.subarray(a, b), { binary, fin: false });
  ws.send(data.subarray(b), { binary, fin: true });
}

ws.on('open', async () => {
  let seed = 0;
  for (const size of sizes.map(Number)) {
    for (const binary of [false, true]) {
      const p = payload(!binary, size, seed++);
      await send(p, binary);
      const m = await next();
      const type = binary ? 'binary' : 'text';
      if (m.isBinary !== binary || !Buffer.from(m.data).equals(p)) {
        console.log(`FAIL echo ${type} ${size}: got ${m.data.length} bytes binary=${m.isBinary}`);
        process.exit(1);
      }
      console.log(`echo ${type} ${size} ok`);
    }
  }
  if (closer === 'client') ws.close(Number(code), reason);
  else ws.send(`close:${code}:${reason}`);
});
ws.on('close', (c, r) => {
  console.log(`pongs ${pongs}`);
  console.log(`CLOSE ${c} ${r.toString()}`);
  process.exit(0);
});
ws.on('error', (err) => { console.log(`FAIL ${err.message}`); process.exit(1); });
