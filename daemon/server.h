// SPDX-License-Identifier: MIT
// The relay server: listeners, clients, timers and signals on one event loop (one
// thread; README "Design" says why). Publishing goes through a Broker (broker.h), local
// delivery through LocalFanout. Its methods are split by concern:
//   server.cpp         start-up, accept, signals, reload, drain, the run loop
//   client_io.cpp      reading, flushing and closing a client's socket
//   client_timer.cpp   each client's one timer: handshake, keep-alive, ping/pong, soft
//                      queue limit and close deadlines, freeing idle buffers
//   http_session.cpp   HTTP requests: routes, upgrades, HTTP publish, health, metrics
//   ws_session.cpp     WebSocket events and the raw relay
//   json_session.cpp   the JSON protocol on /ws
//   tls_session.cpp    wss: ciphertext in and out of a client's TLS engine, the TLS context
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker.h"
#include "client.h"
#include "config.h"
#include "local_fanout.h"
#include "logging.h"
#include "metrics.h"
#include "net/accept_pause.h"
#include "net/reactor.h"
#include "net/socket.h"
#include "net/tls_engine.h"
#include "stats.h"
#include "wire.h"
#include "ws/handshake.h"

namespace relay::daemon {

// Re-reads the config the way start-up did (same file, same command-line overrides).
using ConfigReloader = std::function<ConfigResult()>;

// Runs the relay until SIGTERM/SIGINT drains it. Returns the process exit status
// (0 after a clean drain). Binding failures are logged and return 1.
int run_server(Config config, ConfigReloader reload);

class Server {
 public:
  Server(Config config, ConfigReloader reload);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int run();  // binds, announces readiness, loops until drained; returns the exit status

  // ---- used by clients (client_io.cpp, http_session.cpp, ws_session.cpp) ----
  void mark_pending(Client* c) noexcept;
  static void on_client_timer(void* data) noexcept;  // each Client's timer callback
  const Config& config() const noexcept { return config_; }
  Stats& stats() noexcept { return stats_; }
  int64_t now_ms() const noexcept { return reactor_->now_ms(); }

 private:
  // server.cpp
  bool bind_listeners();
  void accept_from(int listen_fd, ListenerKind kind) noexcept;
  void on_signal() noexcept;
  void start_drain() noexcept;
  void reload() noexcept;
  void update_status() noexcept;
  static void on_listener(int fd, uint32_t events, void* data) noexcept;
  static void on_signal_fd(int fd, uint32_t events, void* data) noexcept;
  static void on_client_io(int fd, uint32_t events, void* data) noexcept;
  static void before_sleep(void* data) noexcept;
  static void on_metrics_timer(void* data) noexcept;
  static void on_watchdog(void* data) noexcept;
  static void on_drain_deadline(void* data) noexcept;

  // client_io.cpp
  void on_readable(Client* c) noexcept;
  void read_http(Client* c) noexcept;
  void read_ws(Client* c) noexcept;
  void flush(Client* c) noexcept;
  void flush_pending() noexcept;
  void begin_close(Client* c, uint16_t code, std::string_view reason, int64_t wait_ms) noexcept;
  void close_now(Client* c) noexcept;
  void free_dead() noexcept;
  void handle_slow_consumer(Client* c) noexcept;
  // After bytes arrived in the HTTP session / the ws protocol (plain recv or decrypted TLS).
  void after_http_input(Client* c) noexcept;
  void after_ws_input(Client* c) noexcept;

  // client_timer.cpp
  // Acts on every deadline that has passed, then arms the timer at the next one.
  void on_deadline(Client* c) noexcept;
  void arm_no_later(Client* c, int64_t deadline_ms) noexcept;
  void set_close_deadline(Client* c, int64_t deadline_ms) noexcept;
  void note_activity(Client* c) noexcept;    // buffers in use: free them once quiet
  void note_queue_size(Client* c) noexcept;  // starts or ends the soft-limit period

  // tls_session.cpp
  // A TLS context from the config's files; null with *error naming /tls/cert or /tls/key.
  static std::unique_ptr<net::TlsContext> make_tls_context(const TlsConfig& tls,
                                                           ConfigError* error);
  void read_tls(Client* c) noexcept;
  void decrypt(Client* c) noexcept;  // plaintext -> HTTP session / ws, then process it
  // Encrypts the client's queue and writes the ciphertext (the TLS half of flush()).
  net::FlushResult flush_tls(Client* c) noexcept;
  bool tls_wants_write(Client* c) noexcept;   // ciphertext waits, or plaintext can be encrypted
  void fail_tls(Client* c) noexcept;          // handshake or record error: drop the client
  void send_tls_goodbye(Client* c) noexcept;  // close_notify (or a pending alert), best effort

  // http_session.cpp
  void process_http(Client* c) noexcept;
  // Returns false when the client is done with HTTP (upgraded or closing).
  bool handle_request(Client* c, const ws::HttpHead& req, size_t head_len) noexcept;
  bool handle_upgrade(Client* c, const ws::HttpHead& req, size_t head_len, bool json,
                      std::string_view channel) noexcept;
  void handle_publish_body(Client* c, std::span<const std::byte> body) noexcept;
  void on_http_published(Client* c, const PublishResult& r) noexcept;
  void respond(Client* c, int status, std::string_view type, std::string_view body,
               std::string_view extra = {}, bool head_only = false) noexcept;
  void refuse(Client* c, int status, std::string_view body, std::string_view extra = {}) noexcept;

  // ws_session.cpp
  void process_ws_events(Client* c) noexcept;
  void on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept;
  void send_text(Client* c, const std::string& text) noexcept;
  // A Message for the broker; echo is the channel's option, looked up once per publish.
  static Message message_for(std::string_view channel, wire::PayloadKind kind,
                             std::span<const std::byte> payload, Client* sender,
                             bool echo) noexcept;
  ws::Limits ws_limits_for(std::string_view channel) const noexcept;
  void leave_all_channels(Client* c) noexcept;

  // json_session.cpp
  void on_json_request(Client* c, std::string_view text) noexcept;

  Config config_;
  ConfigReloader reload_;
  std::unique_ptr<net::Reactor> reactor_;
  Stats stats_;
  Metrics metrics_;
  LogRateLimiter log_limiter_;

  int public_fd_ = -1;
  int metrics_fd_ = -1;
  int signal_fd_ = -1;
  std::unique_ptr<net::AcceptPause> public_pause_;
  std::unique_ptr<net::AcceptPause> metrics_pause_;
  // wss on the public listener: the context new connections get. A reload replaces it;
  // open connections keep the one they started with (each SSL holds a reference).
  std::unique_ptr<net::TlsContext> tls_ctx_;

  LocalFanout fanout_;              // this node's subscribers
  std::unique_ptr<Broker> broker_;  // every publish goes through it

  std::vector<Client*> clients_;  // every live client; Client::index is its slot
  std::vector<Client*> pending_;  // clients with bytes to flush this turn
  std::vector<Client*> dead_;     // closed, freed in before-sleep
  uint64_t next_client_id_ = 1;
  uint64_t ws_clients_ = 0;

  std::string last_status_;  // the last STATUS= sent
  bool draining_ = false;
  int exit_status_ = 0;
  net::Timer metrics_timer_;
  net::Timer watchdog_timer_;
  net::Timer drain_timer_;
};

}  // namespace relay::daemon
