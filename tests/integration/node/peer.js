// An interactive Node `ws` client for the integration tests (driven by harness.NodePeer).
// Usage: node peer.js URL '{"headers": {...}, "protocols": [...], "ca": PEM_PATH}'
// stdout, one JSON object a line:
//   {"ev":"open","protocol":P}  {"ev":"message","binary":B,"b64":DATA}  {"ev":"sent"}
//   {"ev":"close","code":N,"reason":S}  {"ev":"error","message":S}  {"ev":"unexpected-response","status":N}
// stdin, one JSON object a line:
//   {"op":"send","text":S} | {"op":"send","b64":DATA} | {"op":"close","code":N} | {"op":"terminate"}
'use strict';
const WebSocket = require('ws');
const readline = require('readline');

const [url, optsJson] = process.argv.slice(2);
const opts = JSON.parse(optsJson || '{}');
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const ws = new WebSocket(url, opts.protocols || [], {
  headers: opts.headers || {},
  ca: opts.ca ? require('fs').readFileSync(opts.ca) : undefined,  // for wss:// with a test CA
  perMessageDeflate: false,
  maxPayload: 256 * 1024 * 1024,
  handshakeTimeout: 10000,
});
ws.on('open', () => out({ ev: 'open', protocol: ws.protocol }));
ws.on('message', (data, isBinary) => out({ ev: 'message', binary: isBinary, b64: Buffer.from(data).toString('base64') }));
ws.on('close', (code, reason) => { out({ ev: 'close', code, reason: reason.toString() }); process.exitCode = 0; });
ws.on('error', (err) => out({ ev: 'error', message: String(err && err.message) }));
ws.on('unexpected-response', (req, res) => { out({ ev: 'unexpected-response', status: res.statusCode }); res.resume(); ws.terminate(); });

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.op === 'send') {
    const data = cmd.text !== undefined ? cmd.text : Buffer.from(cmd.b64, 'base64');
    ws.send(data, { binary: cmd.text === undefined }, (err) => out(err ? { ev: 'error', message: String(err.message) } : { ev: 'sent' }));
  } else if (cmd.op === 'close') {
    ws.close(cmd.code || 1000);
  } else if (cmd.op === 'terminate') {
    ws.terminate();
  }
});
// stdin closed (the test is done): close and leave within a bounded time.
rl.on('close', () => {
  if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  setTimeout(() => process.exit(0), 2000).unref();
});
// Never outlive the test by much.
setTimeout(() => process.exit(3), 280000).unref();
