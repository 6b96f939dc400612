// SPDX-License-Identifier: MIT
// Client: the daemon's state for one accepted connection, from its first HTTP byte to
// its close. A client starts in HTTP (health checks, publishes, upgrade requests) and
// may become a WebSocket client of the raw relay or of the JSON protocol.
// Clients are never freed inside a callback: close_now() marks them dead and the
// server frees them in its before-sleep hook (Redis' freeClientAsync).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/byte_buffer.h"
#include "base/out_queue.h"
#include "net/tls_engine.h"
#include "pubsub/channel_registry.h"
#include "ws/protocol.h"

namespace relay::daemon {

class Server;

enum class ListenerKind : uint8_t { kPublic, kMetrics };

enum class ClientPhase : uint8_t {
  kHttp,       // Call: read request heads (keep-alive)    Next: kWebSocket, kClosing
  kWebSocket,  // Call: WebSocket events and deliveries    Next: kClosing
  kClosing,    // flush what is queued; the fd closes when flushed (close_when_flushed)
               // or at close_deadline_ms                  Next: kDead
  kDead,       // fd closed; freed in before-sleep
};

enum class ClientMode : uint8_t { kRaw, kJson };

struct Client final : pubsub::Sink {
  Client(Server* s, uint64_t client_id, int socket_fd, ListenerKind kind, int64_t now_ms);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // pubsub::Sink: queue a reference to a prepared frame (no copy) and ask for a flush.
  void deliver(const FrameRef& frame) noexcept override;

  // The queue the next bytes go to: the HTTP queue before the upgrade, then the
  // WebSocket protocol's (the 101 response is its first entry).
  OutQueue& out() noexcept { return ws ? ws->out() : http_out; }
  bool is_websocket() const noexcept { return ws != nullptr; }
  // What the client has not taken yet, for the slow-consumer limits: the queue, plus the
  // ciphertext the TLS engine holds (at most one record, net::kTlsOutputBuffer).
  size_t queued_bytes() noexcept { return out().bytes() + (tls ? tls->pending_output() : 0); }

  Server* server;
  uint64_t id;
  int fd;
  ListenerKind listener;
  ClientPhase phase = ClientPhase::kHttp;
  ClientMode mode = ClientMode::kRaw;
  bool pending_write = false;       // listed in Server::pending_ (once)
  bool close_when_flushed = false;  // kClosing: close the fd once out() is empty
  bool slow_consumer = false;       // over a queue limit: close with 4008 at the next flush
  uint16_t close_code = 0;          // for metrics: the code sent or received (1006 = none)
  size_t index = 0;                 // position in Server::clients_

  // wss: the connection's TLS engine (null on plain connections). Plaintext goes through
  // the same http_in / ws paths; tls_session.cpp moves the ciphertext.
  std::unique_ptr<net::TlsEngine> tls;
  bool tls_want_output = false;  // the engine stopped for room in its output: resume after a flush
  bool tls_active = false;       // bytes moved since the last sweep (else its buffers are freed)

  ByteBuffer http_in;
  OutQueue http_out;
  std::unique_ptr<ws::Protocol> ws;
  pubsub::Subscriber subscriber;
  std::string raw_channel;  // kRaw: the channel this connection is bound to

  // HTTP publish whose body is still arriving.
  std::string publish_channel;
  std::string publish_type;
  size_t body_needed = 0;
  bool keep_alive = true;
  bool keep_alive_idle = false;  // answered a request and waits for the next one

  int64_t handshake_deadline_ms = 0;  // 0 once upgraded or after a first complete request
  int64_t last_input_ms = 0;          // any bytes from the client
  int64_t ping_sent_ms = 0;           // 0 = no ping outstanding
  int64_t soft_over_since_ms = 0;     // 0 = queue under the soft limit
  int64_t close_deadline_ms = 0;      // kClosing: close the fd at this time at the latest
};

}  // namespace relay::daemon
