// SPDX-License-Identifier: MIT
// Types of wsrelay.js (the browser client of wsrelay's /ws JSON protocol).

export interface WsRelayOptions {
  /** Sent as {"op":"auth","token":...} first on every connection; a function is called per connection. */
  token?: string | (() => string | Promise<string>);
  /** Backoff bounds in ms: the n-th retry waits a uniform random time in [0, min(maxDelay, minDelay * 2^n)]. Defaults 500 / 15000. */
  minDelay?: number;
  maxDelay?: number;
  /** A ping every heartbeatMs (0 = off; default 20000); no reply within heartbeatTimeoutMs (default min(heartbeatMs, 10000)) replaces the connection. */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

export type State = "connecting" | "open" | "reconnecting" | "closed";

export interface Delivery {
  channel: string;
  /** Position in the channel's stream (channels with history). */
  offset?: number;
  data?: unknown;
  text?: string;
  binary?: Uint8Array;
  join?: PresenceClient;
  leave?: PresenceClient;
}

export interface PresenceClient {
  client: string;
  user?: string;
}

export interface Ack {
  id: number;
  ok: true;
  [key: string]: unknown;
}

export interface SubscribeAck extends Ack {
  epoch?: string;
  offset?: number;
  recovered?: boolean;
  replayed?: number;
  reason?: string;
}

export interface PublishAck extends Ack {
  delivered: number;
  offset?: number;
}

export interface HistoryAck extends Ack {
  epoch: string;
  offset: number;
  publications: Array<{ offset: number; data?: unknown; text?: string; binary?: Uint8Array }>;
}

export interface PresenceAck extends Ack {
  count: number;
  clients: PresenceClient[];
}

export interface SubscribeOptions {
  /** Resume from the last offset seen after a reconnect (default true; channels with history only, never patterns). */
  recover?: boolean;
  /** Receive join/leave events (channels with presence). */
  presenceEvents?: boolean;
}

export interface CloseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
  willReconnect: boolean;
}

export interface UnrecoverableEvent {
  channel: string;
  /** "epoch_changed" | "offset_too_old" | "no_history", or an error reason when the resubscribe was refused. */
  reason: string;
  /** How many messages were missed, when known (same epoch, offset too old). */
  missed?: number;
  code?: number;
}

export interface RecoveredEvent {
  channel: string;
  replayed: number;
}

export interface EventMap {
  state: State;
  open: { reconnect: boolean };
  connecting: { attempt: number; at: number };
  close: CloseEvent;
  unrecoverable: UnrecoverableEvent;
  recovered: RecoveredEvent;
  error: unknown;
}

export class WsRelayError extends Error {
  code: number;
  reason: string;
}

export function patternMatches(pattern: string, name: string): boolean;

export class WsRelay {
  constructor(url: string, options?: WsRelayOptions);
  readonly url: string;
  readonly state: State;
  on<K extends keyof EventMap>(event: K, fn: (arg: EventMap[K]) => void): () => void;
  off<K extends keyof EventMap>(event: K, fn: (arg: EventMap[K]) => void): void;
  subscribe(channel: string, onMessage: (msg: Delivery) => void, opts?: SubscribeOptions): Promise<SubscribeAck>;
  unsubscribe(channel: string): Promise<Ack>;
  publish(channel: string, data: unknown): Promise<PublishAck>;
  presence(channel: string): Promise<PresenceAck>;
  history(channel: string, opts?: { limit?: number; since?: { offset: number; epoch: string } }): Promise<HistoryAck>;
  close(): void;
}

export default WsRelay;
