// The reference relay for tests/bench: plain Node `ws`, wsrelay's URL scheme.
//   GET /channels/{name} + Upgrade: raw relay (each message goes to every other subscriber)
//   POST /channels/{name}: publish the body (text for text/* and application/json)
// Usage: node tests/bench/node_relay.js PORT   (prints "ready" once listening)
'use strict';
const http = require('http');
const { WebSocketServer } = require(require('path').join(__dirname, '../node/node_modules/ws'));

const channels = new Map();  // name -> Set of sockets
const route = (url) => /^\/channels\/([A-Za-z0-9._:\/-]{1,200})$/.exec(url);

const server = http.createServer((req, res) => {
  const m = route(req.url);
  if (!m || req.method !== 'POST') { res.writeHead(m ? 405 : 404); res.end(); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const binary = !/^(text\/|application\/json)/.test(req.headers['content-type'] || '');
    const subs = channels.get(m[1]) || [];
    for (const ws of subs) ws.send(body, { binary });
    const answer = `{"delivered":${subs.size || 0}}\n`;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': answer.length });
    res.end(answer);
  });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const m = route(req.url);
  if (!m) { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (!channels.has(m[1])) channels.set(m[1], new Set());
    const subs = channels.get(m[1]);
    subs.add(ws);
    ws.on('message', (data, isBinary) => {
      for (const other of subs) if (other !== ws) other.send(data, { binary: isBinary });
    });
    ws.on('close', () => { subs.delete(ws); if (!subs.size) channels.delete(m[1]); });
    ws.on('error', () => {});
  });
});

server.listen(Number(process.argv[2] || 8090), '127.0.0.1', () => console.log('ready'));
