// SPDX-License-Identifier: MIT
// The relay server: listeners, clients, timers and signals on one event loop (one
// thread; README "Design" says why). Publishing goes through a Broker (broker.h), local
// delivery through LocalFanout. Its methods are split by concern:
//   server.cpp         start-up, accept, signals, reload, drain, the run loop
//   client_io.cpp      reading, flushing and closing a client's socket
//   client_timer.cpp   each client's one timer: handshake, keep-alive, ping/pong, soft
//                      queue limit and close deadlines, freeing idle buffers
//   ws_session.cpp     WebSocket engine events, handed to the connection's mode
//   queue_budget.cpp   the global queue budget: each client's share, closing the largest
// The sessions' own rooms use the public part below:
//   http_handler.cpp   HttpHandler: requests, routes, the upgrade, HTTP publish
//   tls_transport.cpp  TlsTransport: wss ciphertext in and out of a client's TLS engine
//   raw_relay.cpp      RawRelay: each message published on the connection's channel
//   json_protocol.cpp  JsonProtocol: the JSON protocol on /ws
//   json_auth.cpp      JsonProtocol: tokens on /ws (auth, refresh, channel rights)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access.h"
#include "auth_runtime.h"
#include "broker.h"
#include "client.h"
#include "config.h"
#include "http_handler.h"
#include "json_protocol.h"
#include "local_fanout.h"
#include "logging.h"
#include "metrics.h"
#include "net/accept_pause.h"
#include "net/fd_reserve.h"
#include "net/reactor.h"
#include "net/socket.h"
#include "net/tls_engine.h"
#include "presence.h"
#include "queue_budget.h"
#include "raw_relay.h"
#include "stats.h"
#include "tls_transport.h"
#include "wire.h"
#include "ws/handshake.h"

namespace relay::daemon {

// Re-reads the config the way start-up did (same file, same command-line overrides).
using ConfigReloader = std::function<ConfigResult()>;

// Runs the relay until SIGTERM/SIGINT drains it. Returns the process exit status
// (0 after a clean drain). Binding failures are logged and return 1.
int run_server(Config config, ConfigReloader reload);

class WorkerHub;
class WorkerBroker;

class Server {
 public:
  // With a hub: worker `worker` of several in one process (workers.h, README "Scaling").
  Server(Config config, ConfigReloader reload, WorkerHub* hub = nullptr, uint32_t worker = 0);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int run();  // binds, announces readiness, loops until drained; returns the exit status
  // Several workers: listeners bound for this one before run() (-1 = none); run() binds none.
  void adopt_listeners(int public_fd, int metrics_fd) noexcept;

  // ---- for the sessions (HttpHandler, RawRelay, JsonProtocol), TlsTransport, Client ----
  const Config& config() const noexcept { return config_; }
  Stats& stats() noexcept { return stats_; }
  int64_t now_ms() const noexcept { return reactor_->now_ms(); }
  bool draining() const noexcept { return draining_; }
  Broker& broker() noexcept { return *broker_; }
  LocalFanout& fanout() noexcept { return fanout_; }
  Presence& presence() noexcept { return presence_; }  // channels with `presence: true`
  Access& access() noexcept { return access_; }        // keys, caps, rate limits (access.h)
  std::string metrics_text();  // the prometheus page, counters refreshed now
  uint64_t websockets() const noexcept { return ws_clients_; }
  // Keys, revocation list and mode of `auth` (reloaded on SIGHUP).
  const AuthRuntime& auth() const noexcept { return *auth_; }
  // A verified identity becomes the connection's: its expiry is armed on the client's timer.
  // False: the user is over limits.max_connections_per_user (the client is closing, 1008).
  bool set_identity(Client* c, auth::Identity who) noexcept;
  // client_io.cpp
  void mark_pending(Client* c) noexcept;
  void set_interest(Client* c, uint32_t interest) noexcept;  // net::kReadable | kWritable
  // After bytes arrived in the HTTP session / the ws protocol (plain recv or decrypted TLS).
  void after_http_input(Client* c) noexcept;
  void after_ws_input(Client* c) noexcept;
  void close_now(Client* c) noexcept;
  // fair_turns.cpp: each client's budget per loop turn, publisher pushback.
  // False when c spent this turn's budget: stop processing its input (hold_input).
  bool turn_budget_left(Client* c) noexcept;
  // One message (or HTTP request) of `bytes` processed; `deliveries` its publish queued.
  void charge_message(Client* c, uint64_t deliveries, size_t bytes) noexcept;
  // Processing stopped with input left: resumed in before-sleep, not read meanwhile.
  void hold_input(Client* c) noexcept;
  bool reading_stopped(const Client* c) const noexcept { return c->input_held || c->pushed_back; }
  void begin_close(Client* c, uint16_t code, std::string_view reason, int64_t wait_ms) noexcept;
  // client_timer.cpp
  static void on_client_timer(void* data) noexcept;  // each Client's timer callback
  void arm_no_later(Client* c, int64_t deadline_ms) noexcept;
  void set_close_deadline(Client* c, int64_t deadline_ms) noexcept;
  void note_activity(Client* c) noexcept;  // buffers in use: free them once quiet
  // queue_budget.cpp: after c's queue grew (a delivery, a reply): its share of the global
  // total, its own limit (max_queue_bytes: closed with 4008 at its flush), a flush.
  void note_queued(Client* c) noexcept;
  // ws_session.cpp
  // The HTTP session became c->ws: count it, arm its ping, run what arrived with the head.
  void start_websocket(Client* c) noexcept;
  void process_ws_events(Client* c) noexcept;
  ws::Limits ws_limits_for(std::string_view channel) const noexcept;

 private:
  // server.cpp
  bool bind_listeners();
  void accept_from(int listen_fd, ListenerKind kind) noexcept;
  Client* add_client(int fd, ListenerKind kind) noexcept;  // null (fd closed) on failure
  // Over limits.max_connections or short of descriptors: 503 (counted by cause) and close.
  void refuse_accepted(int fd, ListenerKind kind, RefusedCause cause) noexcept;
  std::string_view refusal_answer(ListenerKind kind) noexcept;  // the 503, or nothing on wss
  void on_signal() noexcept;
  // server_workers.cpp: drain/reload envelopes from the first worker; the Stats /metrics
  // shows (this worker's, or every worker's summed on the first).
  void on_worker_control(uint8_t kind) noexcept;
  void refresh_metrics() noexcept;
  std::unique_ptr<Broker> make_worker_broker();
  void start_drain() noexcept;
  void reload() noexcept;
  void close_revoked() noexcept;  // reload: revoked identities and removed keys
  void update_status() noexcept;
  void log_where_to_look() const;  // start-up: the URLs of the demo page, /ws and /metrics
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
  void flush_pending_list() noexcept;       // one pass over pending_
  bool output_drained(Client* c) noexcept;  // queue and TLS ciphertext all sent
  // Shuts the write side and discards input until the client's EOF (lingering close).
  void linger(Client* c) noexcept;
  void read_lingering(Client* c) noexcept;
  void flush_entry(Client* c) noexcept;
  void free_dead() noexcept;
  void handle_slow_consumer(Client* c) noexcept;
  // After a flush: the client's share of the global total, and the hard limit for what
  // the engine queued itself (pongs).
  void note_written(Client* c) noexcept;
  // queue_budget.cpp: the total is over max_total_queue_bytes: the largest queues go.
  void evict_largest_queues() noexcept;

  // client_timer.cpp
  // Acts on every deadline that has passed, then arms the timer at the next one.
  void on_deadline(Client* c) noexcept;
  void note_queue_size(Client* c) noexcept;  // starts or ends the soft-limit period

  // ws_session.cpp
  void leave_all_channels(Client* c) noexcept;

  // fair_turns.cpp
  void resume_held_input() noexcept;  // before-sleep, after the flush
  void check_probes() noexcept;       // before-sleep, after the flush: who is far behind
  void check_pushed_back() noexcept;  // before-sleep: read again those whose fan-out drained
  void drop_dead_from_turn_lists() noexcept;  // before free_dead()
  void resume_reading(Client* c) noexcept;
  static void on_pushback_timer(void* data) noexcept;

  Config config_;
  ConfigReloader reload_;
  std::unique_ptr<AuthRuntime> auth_;  // null only if the keys failed to load (run() exits 78)
  std::unique_ptr<net::Reactor> reactor_;
  Stats stats_;
  Access access_;  // before the clients: their cap slots point into it
  Metrics metrics_;
  LogRateLimiter log_limiter_;

  int public_fd_ = -1;
  int metrics_fd_ = -1;
  int signal_fd_ = -1;
  std::unique_ptr<net::AcceptPause> public_pause_;
  std::unique_ptr<net::AcceptPause> metrics_pause_;
  std::unique_ptr<net::FdReserve> fd_reserve_;  // answers at EMFILE/ENFILE
  std::string refusal_503_;                     // built once
  // wss on the public listener: the context new connections get. A reload replaces it;
  // open connections keep the one they started with (each SSL holds a reference).
  std::unique_ptr<net::TlsContext> tls_ctx_;

  LocalFanout fanout_;              // this node's subscribers
  Presence presence_;               // who is on the channels with presence
  std::unique_ptr<Broker> broker_;  // every publish goes through it
  TlsTransport tls_;
  HttpHandler http_;
  RawRelay raw_relay_;
  JsonProtocol json_protocol_;

  std::vector<Client*> clients_;  // every live client; Client::index is its slot
  std::vector<Client*> pending_;  // clients with bytes to flush this turn
  // pending_[0, resumed_pending_) were queued by held input in before-sleep (fair turns):
  // flushed after the clients of the next turn (flush_pending_list).
  size_t resumed_pending_ = 0;
  std::vector<Client*> dead_;  // closed, freed in before-sleep
  // Fair turns (fair_turns.cpp). A publisher's last published frame: after the flush, the
  // subscriber queues still holding it are those whose kernel buffer is full.
  struct PublishProbe {
    Client* client;
    FrameRef frame;
    uint32_t deliveries;   // subscriber queues it went to
    int64_t since_ms = 0;  // pushed_back_: reading stopped at this time
  };
  std::vector<Client*> held_input_;  // budget spent with input left
  std::vector<Client*> resume_scratch_;
  std::vector<PublishProbe> probes_;       // clients that published since the last check
  std::vector<PublishProbe> pushed_back_;  // not read until their fan-out drains
  uint32_t turn_ = 1;                      // loop turns, for the per-turn budgets
  uint64_t next_client_id_ = 1;
  uint64_t ws_clients_ = 0;
  QueueBudget budget_;                  // all queues' memory, max_total_queue_bytes
  std::vector<Client*> evict_scratch_;  // evict_largest_queues(), kept for its capacity
  uint32_t public_open_ = 0;            // counted public sockets (limits.max_connections)
  uint32_t metrics_open_ = 0;           // counted metrics sockets (kMetricsMaxConnections)
  uint32_t lingering_ = 0;              // clients in linger()

  std::string last_status_;  // the last STATUS= sent
  bool draining_ = false;
  int exit_status_ = 0;
  net::Timer metrics_timer_;
  net::Timer watchdog_timer_;
  net::Timer drain_timer_;
  net::Timer pushback_timer_;  // bounds a pushback when no flush wakes the loop

  // Several workers in one process (server_workers.cpp); null/0 with one.
  WorkerHub* hub_ = nullptr;
  uint32_t worker_ = 0;
  WorkerBroker* workers_ = nullptr;  // broker_ when it is a WorkerBroker
  bool listeners_adopted_ = false;
};

}  // namespace relay::daemon
