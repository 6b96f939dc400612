// SPDX-License-Identifier: MIT
// wsrelay.js: the browser client of wsrelay's JSON protocol on /ws (README "The browser
// client"). One ES module, no dependencies, no build step; the daemon serves this file at
// GET /wsrelay.js, and wsrelay.d.ts beside it describes the API.
//
//   import { WsRelay } from "/wsrelay.js";
//   const relay = new WsRelay("wss://relay.example/ws");
//   await relay.subscribe("chat.general", (msg) => console.log(msg.data), { recover: true });
//   relay.on("unrecoverable", ({ channel, reason }) => reloadFromServer(channel));
//   await relay.publish("chat.general", { text: "hi" });
//
// What it does for the application: reconnects with full-jitter exponential backoff
// (capped), resubscribes everything, resumes each channel with history from the last offset
// it saw (`recover`), and says when a channel could not be resumed ("unrecoverable"). A ping
// every heartbeatMs that gets no answer in time replaces the connection, so a dead link is
// noticed even when the browser does not notice it.

const DEFAULTS = { minDelay: 500, maxDelay: 15000, heartbeatMs: 20000, heartbeatTimeoutMs: 0 };

/** An error ack of the relay: `code` (HTTP-like) and `reason`. */
export class WsRelayError extends Error {
  constructor(code, reason) {
    super(`${code} ${reason}`);
    this.name = "WsRelayError";
    this.code = code;
    this.reason = reason;
  }
}

/** Does channel `name` match pattern (`chat.*`: one segment, `room.>`: one or more)? */
export function patternMatches(pattern, name) {
  const p = pattern.split(".");
  const n = name.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return n.length > i;
    if (i >= n.length || (p[i] !== "*" && p[i] !== n[i])) return false;
  }
  return n.length === p.length;
}

const isPattern = (channel) => /[*>]/.test(channel);

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export class WsRelay {
  /**
   * @param {string} url  ws:// or wss:// URL of the relay's /ws endpoint
   * @param {object} [options]  token (string or function returning one or a Promise of one),
   *   minDelay / maxDelay (ms, backoff bounds), heartbeatMs (0 = off), heartbeatTimeoutMs
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    if (!this.options.heartbeatTimeoutMs)
      this.options.heartbeatTimeoutMs = Math.min(Math.max(this.options.heartbeatMs, 1000), 10000);
    this.state = "connecting";  // connecting | open | reconnecting | closed
    this._ws = null;
    this._nextId = 1;
    this._pending = new Map();  // id -> {resolve, reject, keep}
    this._subs = new Map();     // channel -> subscription record
    this._listeners = new Map();
    this._attempt = 0;
    this._retryTimer = null;
    this._pingTimer = null;
    this._pongTimer = null;
    this._closedByUser = false;
    this._connect();
  }

  /** Adds a listener: "state", "open", "close", "unrecoverable", "recovered", "error". */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    const set = this._listeners.get(event);
    if (set) set.delete(fn);
  }

  /**
   * Subscribes to a channel or a pattern (`chat.*`, `room.>`). onMessage(msg) gets
   * {channel, offset?, data? | text? | binary?} and, with presence_events, {channel, join|leave}.
   * recover (default true): on reconnect, resume from the last offset seen (channels with
   * history only). Resolves with the relay's ack.
   */
  subscribe(channel, onMessage, opts = {}) {
    if (this._subs.has(channel)) return Promise.reject(new Error(`already subscribed to ${channel}`));
    const sub = {
      channel, onMessage, recover: opts.recover !== false && !isPattern(channel),
      presenceEvents: !!opts.presenceEvents || !!opts.presence_events,
      epoch: null, offset: null, confirmed: false, waiters: [],
    };
    this._subs.set(channel, sub);
    const done = new Promise((resolve, reject) => sub.waiters.push({ resolve, reject }));
    if (this.state === "open") this._sendSubscribe(sub);
    return done;
  }

  /** Leaves a channel or pattern. Resolves with the ack (or at once when offline). */
  unsubscribe(channel) {
    const sub = this._subs.get(channel);
    if (!sub) return Promise.reject(new Error(`not subscribed to ${channel}`));
    this._subs.delete(channel);
    for (const w of sub.waiters) w.reject(new Error("unsubscribed"));
    if (this.state !== "open") return Promise.resolve({ ok: true });
    return this._request({ op: "unsubscribe", channel });
  }

  /**
   * Publishes `data` (any JSON value; a Uint8Array or ArrayBuffer goes as binary).
   * Resolves with the ack ({ok, delivered}); rejects when the connection is lost first.
   */
  publish(channel, data) {
    const req = { op: "publish", channel };
    if (data instanceof ArrayBuffer) data = new Uint8Array(data);
    if (data instanceof Uint8Array) req.binary = toBase64(data);
    else req.data = data === undefined ? null : data;
    return this._request(req);
  }

  /** Who is on a channel with presence: {count, clients: [{client, user?}]}. */
  presence(channel) {
    return this._request({ op: "presence", channel });
  }

  /** Stored messages: opts {limit} (the last N) or {since: {offset, epoch}}. */
  history(channel, opts = {}) {
    const req = { op: "history", channel };
    if (opts.limit !== undefined) req.limit = opts.limit;
    if (opts.since) req.since = opts.since;
    return this._request(req).then((ack) => {
      for (const p of ack.publications || []) if (typeof p.binary === "string") p.binary = fromBase64(p.binary);
      return ack;
    });
  }

  /** Closes for good: no reconnect; pending requests are rejected. */
  close() {
    this._closedByUser = true;
    clearTimeout(this._retryTimer);
    const ws = this._ws;
    this._dropSocket();
    if (ws) ws.close(1000, "client closed");
    this._failPending(new Error("closed"));
    this._setState("closed");
    this._emit("close", { code: 1000, reason: "client closed", wasClean: true, willReconnect: false });
  }

  // --- connection -----------------------------------------------------------------------

  _emit(event, arg) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(arg); } catch (e) { setTimeout(() => { throw e; }); }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  async _connect() {
    this._retryTimer = null;
    if (this._closedByUser) return;
    this._setState(this._everOpened ? "reconnecting" : "connecting");
    this._emit("connecting", { attempt: this._attempt, at: Date.now() });
    let token = this.options.token;
    try {
      if (typeof token === "function") token = await token();
    } catch (e) {
      this._emit("error", e);
      this._scheduleReconnect();
      return;
    }
    if (this._closedByUser) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this._emit("error", e);
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    ws.onopen = () => this._onOpen(ws, token);
    ws.onmessage = (ev) => this._onMessage(ev.data);
    ws.onclose = (ev) => this._onClose(ev.code, ev.reason, ev.wasClean);
    ws.onerror = () => {};  // the close event follows and says what happened
  }

  _onOpen(ws, token) {
    if (token) this._send({ op: "auth", token });
    this._attempt = 0;
    const reconnect = !!this._everOpened;
    this._everOpened = true;
    this._setState("open");
    this._emit("open", { reconnect });
    for (const sub of this._subs.values()) this._sendSubscribe(sub);
    this._startHeartbeat();
  }

  _onClose(code, reason, wasClean) {
    this._dropSocket();
    const willReconnect = !this._closedByUser;
    this._failPending(new Error(`connection closed (${code})`));
    this._emit("close", { code, reason, wasClean, willReconnect });
    if (willReconnect) this._scheduleReconnect();
  }

  // Forgets the current socket: its late events are ignored from now on.
  _dropSocket() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
    this._pingTimer = this._pongTimer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  // Full jitter: a uniform delay in [0, min(maxDelay, minDelay * 2^attempt)], so a crowd
  // that lost its connections at the same moment does not come back in one burst.
  _scheduleReconnect() {
    if (this._closedByUser || this._retryTimer) return;
    this._setState("reconnecting");
    const { minDelay, maxDelay } = this.options;
    const cap = Math.min(maxDelay, minDelay * 2 ** Math.min(this._attempt, 30));
    this._attempt++;
    const delay = Math.random() * cap;
    this._retryTimer = setTimeout(() => this._connect(), delay);
  }

  _startHeartbeat() {
    const { heartbeatMs, heartbeatTimeoutMs } = this.options;
    if (!heartbeatMs) return;
    this._pingTimer = setInterval(() => {
      if (this._pongTimer) return;  // one ping outstanding at a time
      const ws = this._ws;
      this._pongTimer = setTimeout(() => this._heartbeatLost(ws), heartbeatTimeoutMs);
      this._request({ op: "ping" }).then(() => {
        clearTimeout(this._pongTimer);
        this._pongTimer = null;
      }, () => {});
    }, heartbeatMs);
  }

  // No answer to a ping: the link is dead even if the browser has not noticed. Close it
  // without waiting for a close handshake that may never come, and reconnect.
  _heartbeatLost(ws) {
    if (ws !== this._ws) return;
    this._dropSocket();
    try { ws.close(4000, "heartbeat timeout"); } catch (e) { /* already closing */ }
    this._onClose(4000, "heartbeat timeout", false);
  }

  // --- requests -------------------------------------------------------------------------

  _send(obj) {
    if (!this._ws || this._ws.readyState !== 1) return false;
    this._ws.send(JSON.stringify(obj));
    return true;
  }

  _request(obj) {
    if (this.state !== "open") return Promise.reject(new Error(`not connected (${this.state})`));
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      if (!this._send({ ...obj, id })) {
        this._pending.delete(id);
        reject(new Error("not connected"));
      }
    });
  }

  _failPending(err) {
    const pending = this._pending;
    this._pending = new Map();
    for (const p of pending.values()) if (p.reject) p.reject(err);
  }

  _sendSubscribe(sub) {
    const id = this._nextId++;
    const req = { op: "subscribe", id, channel: sub.channel };
    if (sub.presenceEvents) req.presence_events = true;
    const resuming = sub.confirmed && sub.recover;
    if (resuming && sub.epoch !== null) req.recover = { offset: sub.offset, epoch: sub.epoch };
    this._pending.set(id, { sub, resuming, reject: null });
    this._send(req);
  }

  _onSubscribeReply(p, msg) {
    const sub = p.sub;
    if (this._subs.get(sub.channel) !== sub) return;  // unsubscribed meanwhile
    if (msg.error) {
      const err = new WsRelayError(msg.error.code, msg.error.reason);
      this._subs.delete(sub.channel);
      if (sub.confirmed) this._emit("unrecoverable", { channel: sub.channel, reason: msg.error.reason, code: msg.error.code });
      for (const w of sub.waiters) w.reject(err);
      sub.waiters = [];
      return;
    }
    const hadPosition = sub.epoch !== null;
    if (p.resuming && msg.recovered === true) {
      this._emit("recovered", { channel: sub.channel, replayed: msg.replayed || 0 });
    } else if (p.resuming) {
      // Not resumed: tell the application, with what is known about the gap.
      let reason = msg.reason || "no_history";
      if (!hadPosition) reason = "no_history";
      const info = { channel: sub.channel, reason };
      if (hadPosition && msg.epoch === sub.epoch && typeof msg.offset === "number")
        info.missed = Math.max(0, msg.offset - sub.offset);
      this._emit("unrecoverable", info);
    }
    // The stream position: replayed deliveries (if any) follow and advance it.
    if (typeof msg.epoch === "string") {
      if (!(p.resuming && msg.recovered === true)) sub.offset = msg.offset || 0;
      sub.epoch = msg.epoch;
    } else {
      sub.epoch = null;
      sub.offset = null;
    }
    sub.confirmed = true;
    for (const w of sub.waiters) w.resolve(msg);
    sub.waiters = [];
  }

  _onMessage(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (e) { return; }
    if (msg === null || typeof msg !== "object") return;
    if ("id" in msg && (msg.ok || msg.error)) {
      const p = this._pending.get(msg.id);
      if (!p) return;
      this._pending.delete(msg.id);
      if (p.sub) return this._onSubscribeReply(p, msg);
      if (msg.error) p.reject(new WsRelayError(msg.error.code, msg.error.reason));
      else p.resolve(msg);
      return;
    }
    if (typeof msg.channel === "string") this._deliver(msg);
  }

  _deliver(msg) {
    if (typeof msg.binary === "string") msg.binary = fromBase64(msg.binary);
    const exact = this._subs.get(msg.channel);
    if (exact) {
      if (typeof msg.offset === "number") {
        // At most once per offset: anything at or below the last one seen is a repeat.
        if (exact.epoch !== null && exact.offset !== null && msg.offset <= exact.offset) return;
        exact.offset = msg.offset;
      }
      exact.onMessage(msg);
    }
    for (const sub of this._subs.values())
      if (sub !== exact && isPattern(sub.channel) && patternMatches(sub.channel, msg.channel)) sub.onMessage(msg);
  }
}

export default WsRelay;
