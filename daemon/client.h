// SPDX-License-Identifier: MIT
// Client: the daemon's state for one accepted connection, from its first HTTP byte to
// its close. It is small and holds what every phase needs (fd, id, TLS engine, one
// timer); the phase's own state lives apart and is freed when the phase ends:
//   HttpSession  request heads, publish bodies, keep-alive  (freed at the upgrade)
//   WsSession    the WebSocket engine, raw or JSON mode, subscriptions
// so an idle WebSocket connection carries no HTTP buffers.
// Clients are never freed inside a callback: close_now() marks them dead and the
// server frees them in its before-sleep hook (Redis' freeClientAsync).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "auth/identity.h"
#include "base/byte_buffer.h"
#include "base/fixed_pool.h"
#include "base/out_queue.h"
#include "connection_access.h"
#include "local_fanout.h"
#include "net/reactor.h"
#include "net/tls_engine.h"
#include "pubsub/subscriber.h"
#include "ws/protocol.h"

namespace relay::daemon {

class Server;

enum class ListenerKind : uint8_t { kPublic, kMetrics };

enum class ClientPhase : uint8_t {
  kHttp,       // Call: read request heads (keep-alive)    Next: kWebSocket, kClosing
  kWebSocket,  // Call: WebSocket events and deliveries    Next: kClosing
  kClosing,    // flush what is queued; once flushed (close_when_flushed), shut the
               // write side and discard input until EOF (lingering); the fd closes
               // then or at close_deadline_ms             Next: kDead
  kDead,       // fd closed; freed in before-sleep (once no publish is in flight)
};

// HTTP phase: requests on a keep-alive connection, an HTTP publish body.
struct HttpSession {
  ByteBuffer in;
  OutQueue out;
  std::string publish_channel;  // a publish whose body is still arriving
  std::string publish_type;
  std::string cors_headers;  // Access-Control-Allow-Origin + Vary for this request's answers
  size_t body_needed = 0;
  int64_t deadline_ms = 0;  // head, body or TLS handshake due (slow-loris); 0 = none
  bool keep_alive = true;
  bool keep_alive_idle = false;       // answered a request and waits for the next one
  bool publish_in_flight = false;     // the broker has not answered: later requests wait
  bool resume_after_publish = false;  // processing stopped for it: resume on the answer
};

// A connection's token (json_auth.cpp, the raw upgrade): only when auth.mode is not none
// and there is something to keep, so a connection without a token pays one null pointer.
struct ConnAuth {
  std::optional<auth::Identity> who;  // empty: anonymous, or /ws before its auth op
  int64_t deadline_ms = 0;            // no `who`: the auth op is due; else exp + leeway; 0 = none
};

// WebSocket phase: the protocol engine and what the connection subscribed to.
struct WsSession {
  RELAY_POOLED(WsSession)  // every idle connection holds one: no malloc header (fixed_pool.h)
  WsSession(pubsub::Sink& sink, WsMode m, ws::Limits limits)
      : proto(ws::Role::kServer, limits), subscriber(sink), mode(m) {}
  ws::Protocol proto;
  pubsub::Subscriber subscriber;
  std::string raw_channel;         // kRaw: the channel this connection is bound to
  std::unique_ptr<ConnAuth> auth;  // null: no token (always so with auth.mode none)
  int64_t ping_sent_ms = 0;        // 0 = no ping outstanding
  int64_t soft_over_since_ms = 0;  // 0 = queue under the soft limit

  // Caps and rate limits, when configured (access.h).
  std::unique_ptr<ConnectionAccess> access;
  WsMode mode;
};

struct Client final : pubsub::Sink {
  RELAY_POOLED(Client)  // no malloc header or rounding per connection (fixed_pool.h)
  Client(Server* s, net::Reactor& reactor, uint64_t client_id, int socket_fd, ListenerKind kind,
         int64_t now_ms);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // pubsub::Sink: queue a reference to a prepared frame (no copy) and ask for a flush.
  void deliver(const FrameRef& frame) noexcept override;

  // The queue the next bytes go to: the HTTP queue before the upgrade, then the
  // WebSocket protocol's (the 101 response is its first entry).
  OutQueue& out() noexcept { return ws ? ws->proto.out() : http->out; }
  // What the client has not taken yet, for the slow-consumer limits and the global budget.
  // Both count the memory the queue holds (OutQueue::memory(): headers and per-frame
  // overhead too), plus the TLS engine's ciphertext (at most one record).
  size_t held_bytes() noexcept { return out().memory() + (tls ? tls->pending_output() : 0); }
  // Its own part in the global budget: the queue's entries and the TLS ciphertext (the
  // frames are counted there once, however many queues hold them).
  size_t own_bytes() noexcept { return out().entry_bytes() + (tls ? tls->pending_output() : 0); }
  // What the limits judge: held_bytes(), plus what the kernel had not sent at the last
  // short write (SIOCOUTQ, asked only then: it is a system call).
  size_t queued_bytes() noexcept { return held_bytes() + kernel_unsent; }

  Server* server;
  uint64_t id;
  // wss: the connection's TLS engine (null on plain connections). Plaintext goes through
  // the same HTTP / WebSocket paths; tls_transport.cpp moves the ciphertext.
  std::unique_ptr<net::TlsEngine> tls;
  std::unique_ptr<HttpSession> http;  // exactly one of http and ws is set
  std::unique_ptr<WsSession> ws;
  // One timer, armed at the nearest of the connection's deadlines (Server::on_deadline
  // works out the next one), so an idle connection costs nothing until then.
  net::Timer timer;
  int64_t last_input_ms;             // any bytes from the client
  int64_t close_deadline_ms = 0;     // kClosing: close the fd at this time at the latest
  uint32_t index = 0;                // position in Server::clients_
  uint32_t publishes_in_flight = 0;  // completions still to come: not freed before them
  // Fair turns (fair_turns.cpp): the work this client started in loop turn budget_turn.
  uint32_t budget_turn = 0;
  uint32_t turn_bytes = 0;       // payload bytes processed in budget_turn
  uint32_t probe_slot = 0;       // 1 + its entry in Server::probes_ (budget_turn only), or 0
  uint16_t turn_messages = 0;    // messages (or HTTP requests) processed in budget_turn
  uint16_t turn_deliveries = 0;  // deliveries its publishes queued in budget_turn (capped)
  int fd;
  uint16_t linger_kib = 0;  // kClosing after shutdown(SHUT_WR): input discarded so far
  uint16_t close_code = 0;  // for metrics: the code sent or received (1006 = none)
  ListenerKind listener;
  ClientPhase phase = ClientPhase::kHttp;
  bool pending_write : 1 = false;       // listed in Server::pending_ (once)
  bool close_when_flushed : 1 = false;  // kClosing: close the fd once out() is empty
  bool slow_consumer : 1 = false;       // over a queue limit: close with 4008 at the next flush
  bool tls_want_output : 1 =
      false;                      // the engine stopped for room in its output: resume after a flush
  bool tls_active : 1 = false;    // TLS bytes moved since the last idle check
  bool buffers_held : 1 = false;  // input or TLS buffers may be held: free them when quiet
  bool input_held : 1 = false;    // budget spent with input left: in Server::held_input_
  bool pushed_back : 1 = false;   // not read until its fan-out drains: in Server::pushed_back_
  bool lingering : 1 = false;     // kClosing: write side shut, input discarded until EOF
  bool counted : 1 = false;       // in its listener's count (public: limits.max_connections)
  bool write_blocked : 1 = false;  // the last write was short: no more until kWritable
  uint32_t kernel_unsent = 0;      // SIOCOUTQ at the last short write (0 after a full one)
  uint64_t queue_accounted = 0;    // own_bytes() as last added to the global budget
};

}  // namespace relay::daemon
