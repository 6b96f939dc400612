// SPDX-License-Identifier: MIT
// The page talks to the raw relay on /channels/demo (or /channels/NAME for /?channel=NAME,
// e.g. the channel an app publishes on) with text frames of {"name": ..., "text": ...}. Its element
// ids are relied on by tests/integration/test_browser.py.
#include "demo_page.h"

namespace relay::daemon {

std::string_view demo_page_html() noexcept {
  static constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsrelay demo chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #messages { list-style: none; padding: 0; border: 1px solid #ccc; height: 20rem; overflow-y: auto; }
  #messages li { padding: .25rem .5rem; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
  #messages time { color: #888; font-size: .8rem; margin-right: .5rem; }
  #messages li.mine { background: #eef6ff; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  #message { flex: 1; }
  #status { color: #666; font-size: .9rem; }
</style>
</head>
<body data-state="connecting">
<h1>wsrelay demo chat: <span id="channel"></span></h1>
<p id="status">connecting…</p>
<ul id="messages"></ul>
<form id="send-form">
  <input id="name" placeholder="name" size="10" autocomplete="off">
  <input id="message" placeholder="say something" autocomplete="off">
  <button id="send" type="submit" disabled>Send</button>
</form>
<script>
"use strict";
// One channel, raw relay: every text frame is {"name", "text"}. Others' messages arrive
// from the relay; our own are shown locally (the channel does not echo). /?channel=NAME
// picks the channel, so the page can watch what a backend publishes.
const channel = new URLSearchParams(location.search).get("channel") || "demo";
// /?token=T (auth.mode required): sent as the raw channel's bearer subprotocol entry.
const token = new URLSearchParams(location.search).get("token");
document.getElementById("channel").textContent = channel;
const list = document.getElementById("messages");
const statusLine = document.getElementById("status");
const nameInput = document.getElementById("name");
const sendButton = document.getElementById("send");  // enabled only while connected
nameInput.value = "guest-" + Math.floor(Math.random() * 1000);
let socket = null;
let retryMs = 500;

function show(msg, mine) {
  const li = document.createElement("li");
  if (mine) li.className = "mine";
  // A frame that is not {"name", "text"} (another publisher's format) is shown as it came.
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString([], { hour12: false });
  li.appendChild(time);
  li.appendChild(document.createTextNode(
      typeof msg === "string" ? msg : (msg.name || "?") + ": " + msg.text));
  list.appendChild(li);
  list.scrollTop = list.scrollHeight;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/channels/" + encodeURIComponent(channel),
                         token ? ["bearer." + token] : []);
  socket.onopen = () => {
    retryMs = 500;
    statusLine.textContent = "connected to " + socket.url;
    document.body.dataset.state = "open";
    sendButton.disabled = false;
  };
  socket.onmessage = (ev) => {
    let msg = ev.data;
    try {
      const parsed = JSON.parse(ev.data);
      if (parsed && typeof parsed.text === "string") msg = parsed;
    } catch (e) { /* not JSON: show the text */ }
    if (typeof msg === "string" || typeof msg.text === "string") show(msg, false);
  };
  socket.onclose = (ev) => {
    document.body.dataset.state = "closed";
    sendButton.disabled = true;
    statusLine.textContent = "disconnected (" + ev.code + "), retrying…";
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
}

document.getElementById("send-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = document.getElementById("message");
  const text = input.value.trim();
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  const msg = { name: nameInput.value || "guest", text: text };
  socket.send(JSON.stringify(msg));
  show(msg, true);
  input.value = "";
});

connect();
</script>
</body>
</html>
)HTML";
  return kPage;
}

}  // namespace relay::daemon
