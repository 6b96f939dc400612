// An echo server on Node's `ws` (an independent implementation) for the interop tests.
//   node node_echo_server.js   -> prints "PORT <n>" (127.0.0.1, a free port)
// Paths: "/frag" echoes each message as three fragments with a ping between the first
// two (RFC 6455 §5.4: control frames may be interleaved); any other path echoes whole.
// A text message "close:<code>:<reason>" makes the server close with that code/reason.
// Prints "pongs <n>" and "close <code> <reason>" for each connection that closes.
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20,
                                  perMessageDeflate: false });
wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
wss.on('connection', (ws, req) => {
  const frag = req.url.startsWith('/frag');
  let pongs = 0;  // answers to our pings between fragments: the engine must send them
  ws.on('pong', () => { pongs += 1; });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      const s = data.toString();
      const m = /^close:(\d+):(.*)$/s.exec(s);
      if (m) { ws.close(Number(m[1]), m[2]); return; }
    }
    if (!frag || data.length < 3) { ws.send(data, { binary: isBinary }); return; }
    // Split at byte offsets: text fragments may end inside a UTF-8 sequence (RFC 6455 §8.1).
    const a = Math.floor(data.length / 3), b = Math.floor((2 * data.length) / 3);
    ws.send(data.subarray(0, a), { binary: isBinary, fin: false });
    ws.ping('between fragments');
    ws.send(data.subarray(a, b), { binary: isBinary, fin: false });
    ws.send(data.subarray(b), { binary: isBinary, fin: true });
  });
  ws.on('close', (code, reason) => {
    console.log(`pongs ${pongs}`);
    console.log(`close ${code} ${reason.toString()}`);
  });
  ws.on('error', (err) => console.log(`error ${err.message}`));
});
// Bounded life: the tests stop it, and it stops itself after 10 minutes regardless.
setTimeout(() => process.exit(0), 600000).unref();
