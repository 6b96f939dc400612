// SPDX-License-Identifier: MIT
// Server start-up, accept, signals, timers, reload and drain: the parts of the event loop
// that are not about one client's bytes. No WebSocket framing here (ws_session.cpp).
#include "server.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/bytes.h"
#include "base/heap_trim.h"
#include "broker_factory.h"
#include "logging.h"
#include "memory_broker.h"
#include "net/fd_reserve.h"
#include "net/socket.h"
#include "raw_history.h"
#include "signals.h"
#include "systemd.h"
#include "worker_broker.h"

namespace relay::daemon {
namespace {

constexpr int64_t kMetricsMs = 1000;     // Stats -> prometheus families
constexpr int kAcceptsPerWake = 64;      // as Redis MAX_ACCEPTS_PER_CALL
constexpr int64_t kAcceptPauseMs = 100;  // after EMFILE/ENFILE with no reserve to answer
// The metrics listener's own cap on open connections (README "Metrics"): it works
// whatever the public listener's state, and a scraper needs one or two.
constexpr uint32_t kMetricsMaxConnections = 16;
// Descriptors the public listener leaves free below RLIMIT_NOFILE, for the metrics
// listener, a reload's files and the logs: a public connection that gets a descriptor
// this close to the limit is refused (fd_limit). A quarter of the limit when it is small.
constexpr int kFdHeadroom = 32;
// Sockets lingering at once (closing, kLingerMs each at most): a refused connection
// beyond it is answered and closed at once rather than held.
constexpr uint32_t kMaxLingering = 1024;

int fd_limit() noexcept {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY ||
      lim.rlim_cur > rlim_t(INT32_MAX))
    return INT32_MAX;
  return int(lim.rlim_cur);
}

std::unique_ptr<AuthRuntime> auth_or_log(const AuthConfig& a) {
  std::vector<ConfigError> errors;
  std::unique_ptr<AuthRuntime> rt = make_auth_runtime(a, &errors);
  for (const auto& e : errors) spdlog::error("{}", e.to_string());
  return rt;
}

std::unique_ptr<net::Reactor> make_reactor() {
  auto r = net::Reactor::create();
  RELAY_ASSERT(r.has_value());
  return std::move(r.value());
}

}  // namespace

Server::Server(Config config, ConfigReloader reload, WorkerHub* hub, uint32_t worker)
    : config_(std::move(config)),
      reload_(std::move(reload)),
      auth_(auth_or_log(config_.auth)),
      reactor_(make_reactor()),
      fanout_(stats_),
      broker_(hub ? nullptr : make_broker(config_, *reactor_, fanout_, stats_)),
      tls_(*this),
      http_(*this),
      raw_relay_(*this),
      json_protocol_(*this),
      metrics_timer_(*reactor_, &Server::on_metrics_timer, this),
      watchdog_timer_(*reactor_, &Server::on_watchdog, this),
      drain_timer_(*reactor_, &Server::on_drain_deadline, this),
      pushback_timer_(*reactor_, &Server::on_pushback_timer, this),
      hub_(hub),
      worker_(worker) {
  if (hub_) broker_ = make_worker_broker();
  fanout_.attach(*broker_);
  fanout_.use_config(&config_);
  broker_->attach_presence(presence_);
  // A backplane lost history its subscribers waited for (Broker: README "Several nodes").
  fanout_.on_history_lost([this](pubsub::Sink& s, const char* reason) {
    begin_close(static_cast<Client*>(&s), kHistoryLostCode, reason, 1000);
  });
  clients_.reserve(1024);
  pending_.reserve(1024);
}

Server::~Server() {
  for (Client* c : clients_) {
    reactor_->remove(c->fd);
    ::close(c->fd);
    delete c;
  }
  clients_.clear();
  for (Client* c : dead_) delete c;  // the loop has stopped: no completion comes any more
  dead_.clear();
  for (int fd : {public_fd_, metrics_fd_, signal_fd_}) {
    if (fd >= 0) {
      reactor_->remove(fd);
      ::close(fd);
    }
  }
}

bool Server::bind_listeners() {
  if (listeners_adopted_) return true;
  auto listen_on = [&](const std::string& where, const char* what, int* fd_out) {
    auto addr = net::parse_address(where);
    if (!addr) {
      spdlog::error("{} address '{}' is not HOST:PORT", what, where);
      return false;
    }
    auto fd = net::listen_tcp(*addr, 4096, /*reuseport=*/false);
    if (!fd) {
      spdlog::error("cannot listen on {} ({}): {}", where, what,
                    std::strerror(to_errno(fd.error())));
      return false;
    }
    *fd_out = *fd;
    auto port = net::local_port(*fd);
    spdlog::info("listening on {} ({}, port {})", where, what, port ? *port : 0);
    return true;
  };
  // Socket activation: a listener systemd passed in replaces binding that one ourselves,
  // so connections wait in its accept queue while wsrelay restarts (wsrelay.socket).
  ActivatedListeners passed = take_activated_listeners();
  for (const std::string& why : passed.ignored) spdlog::warn("socket activation: ignoring {}", why);
  auto take_passed = [&](int fd, const char* what, const std::string& configured, int* fd_out) {
    *fd_out = fd;
    auto port = net::local_port(fd);
    spdlog::info("listening on the {} socket passed by systemd (fd {}, port {}) instead of '{}'",
                 what, fd, port ? *port : 0, configured);
  };
  if (passed.public_fd >= 0)
    take_passed(passed.public_fd, "public", config_.listen, &public_fd_);
  else if (!listen_on(config_.listen, "public", &public_fd_))
    return false;
  if (passed.metrics_fd >= 0) {
    take_passed(passed.metrics_fd, "metrics", config_.metrics_listen, &metrics_fd_);
  } else if (!config_.metrics_listen.empty() &&
             !listen_on(config_.metrics_listen, "metrics", &metrics_fd_)) {
    return false;
  }
  return true;
}

int Server::run() {
  if (worker_ == 0) signal_fd_ = open_signal_fd();  // the first worker takes the signals
  if (worker_ == 0 && signal_fd_ < 0) {
    spdlog::error("cannot set up signal handling: {}", std::strerror(errno));
    return 1;
  }
  if (std::vector<ConfigError> errors; !access_.configure(config_, &errors)) {
    for (const ConfigError& e : errors) spdlog::error("{}", e.to_string());
    return kExitConfig;
  }
  if (!auth_) return kExitConfig;  // the key errors are logged
  if (config_.tls) {
    ConfigError err;
    tls_ctx_ = make_tls_context(*config_.tls, &err);
    if (!tls_ctx_) {
      spdlog::error("{}", err.to_string());
      return kExitConfig;
    }
    spdlog::info("TLS on {}: {}", config_.listen, tls_ctx_->describe_certificate());
  }
  fd_reserve_ = std::make_unique<net::FdReserve>();  // before the descriptors run out
  if (!fd_reserve_->held()) spdlog::warn("cannot open /dev/null: no descriptor held in reserve");
  if (!bind_listeners()) return 1;
  if (signal_fd_ >= 0) (void)reactor_->add(signal_fd_, net::kReadable, &Server::on_signal_fd, this);
  (void)reactor_->add(public_fd_, net::kReadable, &Server::on_listener, this);
  public_pause_ = std::make_unique<net::AcceptPause>(*reactor_, public_fd_, kAcceptPauseMs);
  if (metrics_fd_ >= 0) {
    (void)reactor_->add(metrics_fd_, net::kReadable, &Server::on_listener, this);
    metrics_pause_ = std::make_unique<net::AcceptPause>(*reactor_, metrics_fd_, kAcceptPauseMs);
  }
  reactor_->add_before_sleep(&Server::before_sleep, this);
  metrics_timer_.arm_every(kMetricsMs);
  if (int64_t wd = watchdog_interval_ms(); wd > 0) {
    watchdog_timer_.arm_every(wd);
    notify_watchdog();
  }
  refresh_metrics();
  notify_ready();
  update_status();
  spdlog::info("wsrelay {} ready", WSRELAY_VERSION);
  log_where_to_look();
  reactor_->run();
  spdlog::info("stopped: {} clients left", clients_.size());
  return exit_status_;
}

void Server::set_interest(Client* c, uint32_t interest) noexcept {
  (void)reactor_->modify(c->fd, interest);
}

void Server::mark_pending(Client* c) noexcept {
  if (c->pending_write || c->phase == ClientPhase::kDead) return;
  c->pending_write = true;
  pending_.push_back(c);
}

// ---- accept ---------------------------------------------------------------------------

void Server::on_listener(int fd, uint32_t, void* data) noexcept {
  auto* self = static_cast<Server*>(data);
  self->accept_from(fd, fd == self->metrics_fd_ ? ListenerKind::kMetrics : ListenerKind::kPublic);
}

void Server::accept_from(int listen_fd, ListenerKind kind) noexcept {
  const bool is_public = kind == ListenerKind::kPublic;
  const int limit = fd_limit();
  const int fd_ceiling = limit - std::min(kFdHeadroom, limit / 4);
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    net::Accepted a = net::accept_nonblocking(listen_fd);
    if (a.status == net::AcceptStatus::kWouldBlock) return;
    if (a.status == net::AcceptStatus::kExhausted) {
      // Out of descriptors: answer through the reserve instead of leaving the client in
      // the backlog; without a reserve (or out of memory), stop accepting for a while.
      if ((a.error == EMFILE || a.error == ENFILE) &&
          fd_reserve_->refuse_one(listen_fd, refusal_answer(kind))) {
        if (is_public) stats_.count_refused(RefusedCause::kFdLimit);
        log_limited(log_limiter_, spdlog::level::warn, "accept-fd-limit",
                    "out of descriptors ({}): refusing connections with 503",
                    std::strerror(a.error));
        continue;
      }
      log_limited(log_limiter_, spdlog::level::warn, "accept-exhausted", "accept paused: {}",
                  std::strerror(a.error));
      (kind == ListenerKind::kMetrics ? metrics_pause_ : public_pause_)->pause();
      return;
    }
    if (a.status == net::AcceptStatus::kFailed) {
      log_limited(log_limiter_, spdlog::level::err, "accept-failed", "accept failed: {}",
                  std::strerror(a.error));
      return;
    }
    // Descriptors are handed out lowest first: one this high means fewer than the
    // headroom are left, and those are kept for /metrics.
    if (is_public && a.fd >= fd_ceiling) {
      refuse_accepted(a.fd, kind, RefusedCause::kFdLimit);
      continue;
    }
    if (is_public ? public_open_ >= config_.limits.max_connections
                  : metrics_open_ >= kMetricsMaxConnections) {
      refuse_accepted(a.fd, kind, RefusedCause::kMaxConnections);
      continue;
    }
    Client* c = add_client(a.fd, kind);
    if (!c) continue;
    c->counted = true;
    ++(is_public ? public_open_ : metrics_open_);
    // The TLS handshake counts against the same deadline as the request head.
    c->http->deadline_ms = now_ms() + config_.limits.handshake_timeout_ms;
    arm_no_later(c, c->http->deadline_ms);
    spdlog::debug("client {} connected ({})", c->id, is_public ? "public" : "metrics");
  }
}

Client* Server::add_client(int fd, ListenerKind kind) noexcept {
  (void)net::set_tcp_nodelay(fd);
  if (config_.limits.socket_send_buffer)  // the kernel's share per socket (README)
    (void)net::set_send_buffer(fd, int(config_.limits.socket_send_buffer));
  auto* c = new Client(this, *reactor_, next_client_id_++, fd, kind, now_ms());
  if (kind == ListenerKind::kPublic && tls_ctx_) {
    c->tls = net::TlsEngine::create(*tls_ctx_, net::TlsEngine::Role::kServer);
    if (!c->tls) {
      log_limited(log_limiter_, spdlog::level::err, "tls-alloc",
                  "cannot allocate a TLS connection");
      ::close(fd);
      delete c;
      return nullptr;
    }
  }
  if (!reactor_->add(fd, net::kReadable, &Server::on_client_io, c)) {
    ::close(fd);
    delete c;
    return nullptr;
  }
  c->index = uint32_t(clients_.size());
  clients_.push_back(c);
  ++stats_.connections;
  ++stats_.accepted_total;
  return c;
}

// 503 with Retry-After on plain HTTP; nothing on the wss listener (a TLS handshake is not
// spent on a connection that is refused anyway: the client sees the connection end).
std::string_view Server::refusal_answer(ListenerKind kind) noexcept {
  if (kind == ListenerKind::kPublic && tls_ctx_) return {};
  if (refusal_503_.empty())
    ws::build_error_response(&refusal_503_, 503, "too many connections\n", "Retry-After: 1\r\n");
  return refusal_503_;
}

void Server::refuse_accepted(int fd, ListenerKind kind, RefusedCause cause) noexcept {
  const bool is_public = kind == ListenerKind::kPublic;
  if (is_public) stats_.count_refused(cause);
  log_limited(log_limiter_, spdlog::level::warn,
              cause == RefusedCause::kFdLimit ? "refused-fd-limit" : "refused-max-connections",
              "refusing connections on the {} listener with 503: {}",
              is_public ? "public" : "metrics",
              cause == RefusedCause::kFdLimit ? "few descriptors left"
              : is_public                     ? "limits.max_connections reached"
                                              : "its connection cap reached");
  std::string_view answer = refusal_answer(kind);
  // Short of descriptors, or many closing already: answer and close at once. Else the
  // client gets the answer and a lingering close, as any other refused request.
  if (cause == RefusedCause::kFdLimit || lingering_ >= kMaxLingering) {
    net::close_refused(fd, answer);
    return;
  }
  Client* c = add_client(fd, kind);
  if (!c) return;
  if (!answer.empty()) c->out().push(FrameRef::copy_of(as_bytes(answer)));
  c->tls.reset();  // nothing encrypted is said to it
  c->phase = ClientPhase::kClosing;
  c->close_when_flushed = true;
  set_close_deadline(c, now_ms() + 1000);
  mark_pending(c);
}

void Server::on_client_io(int, uint32_t events, void* data) noexcept {
  auto* c = static_cast<Client*>(data);
  Server* self = c->server;
  if (c->phase == ClientPhase::kDead) return;
  if (events & net::kWritable) {
    c->write_blocked = false;  // room again in the kernel's buffer
    self->flush(c);
  }
  if (c->phase != ClientPhase::kDead && (events & (net::kReadable | net::kError)))
    self->on_readable(c);
}

// ---- before sleep, timers ---------------------------------------------------------------

void Server::before_sleep(void* data) noexcept {
  auto* self = static_cast<Server*>(data);
  self->flush_pending();
  // Fair turns: a new budget for everyone; input left by a spent budget resumes now, after
  // every ready client had its turn and after the flush (fair_turns.cpp).
  self->check_probes();
  self->check_pushed_back();
  ++self->turn_;
  self->resume_held_input();
  if (!self->held_input_.empty()) self->reactor_->skip_next_wait();
  self->drop_dead_from_turn_lists();
  self->resumed_pending_ = self->pending_.size();  // all queued by the resumed input
  self->free_dead();
  if (self->draining_ && self->ws_clients_ == 0) self->reactor_->stop();
}

void Server::on_metrics_timer(void* data) noexcept {
  auto* self = static_cast<Server*>(data);
  self->stats_.channels = self->fanout_.channel_count();
  if (HistoryStore* h = self->broker_->history()) {
    h->expire(history_now_ms());  // history_ttl of channels nobody publishes on any more
    self->stats_.history_messages = h->messages();
    self->stats_.history_bytes = h->bytes();
  }
  self->refresh_metrics();
  log_suppressed(self->log_limiter_, self->now_ms());  // the tail of a burst of repeated errors
  (void)note_heap_release(0, self->now_ms());  // a trim still owed after a burst (heap_trim.h)
  self->update_status();
}

// STATUS= for `systemctl status`, sent when the counts changed (at most once a second).
void Server::update_status() noexcept {
  std::string s = "connections=" + std::to_string(stats_.connections) +
                  " websockets=" + std::to_string(ws_clients_) +
                  " channels=" + std::to_string(fanout_.channel_count());
  if (draining_) s += " draining";
  if (s == last_status_) return;
  notify_status(s);
  last_status_ = std::move(s);
}

std::string Server::metrics_text() {
  stats_.channels = fanout_.channel_count();
  refresh_metrics();
  return metrics_.serialize();
}

// One info line at start-up with the URLs a new user wants: the demo page (or where
// WebSockets connect when it is off) and the metrics.
void Server::log_where_to_look() const {
  auto url = [](const std::string& listen, int fd, std::string_view scheme, std::string_view path) {
    std::string host = listen.substr(0, listen.rfind(':'));
    if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "127.0.0.1";
    auto port = net::local_port(fd);
    return fmt::format("{}://{}:{}{}", scheme, host, port ? *port : 0, path);
  };
  const bool tls = config_.tls.has_value();
  std::string line =
      config_.demo ? "demo page at " + url(config_.listen, public_fd_, tls ? "https" : "http", "/")
                   : "WebSockets at " + url(config_.listen, public_fd_, tls ? "wss" : "ws", "/ws") +
                         " (demo page off)";
  if (metrics_fd_ >= 0)
    line += ", metrics at " + url(config_.metrics_listen, metrics_fd_, "http", "/metrics");
  spdlog::info("{}", line);
}

void Server::on_watchdog(void*) noexcept { notify_watchdog(); }

// ---- signals, reload, drain ---------------------------------------------------------------

void Server::on_signal_fd(int, uint32_t, void* data) noexcept {
  static_cast<Server*>(data)->on_signal();
}

void Server::on_signal() noexcept {
  for (int sig : read_signals(signal_fd_)) {
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("got {}: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      start_drain();
      if (workers_) workers_->broadcast(Envelope::Kind::kDrain);
    } else if (sig == SIGHUP) {
      reload();
      if (workers_) workers_->broadcast(Envelope::Kind::kReload);
    }
  }
}

void Server::start_drain() noexcept {
  if (draining_) return;
  draining_ = true;
  notify_stopping();
  drain_timer_.arm_after(config_.limits.drain_timeout_ms);
  for (size_t i = clients_.size(); i-- > 0;) {  // backwards: close_now() swap-removes
    Client* c = clients_[i];
    if (c->phase == ClientPhase::kWebSocket) {
      begin_close(c, ws::close_code::kGoingAway, "server shutting down",
                  config_.limits.drain_timeout_ms);
    } else if (c->phase == ClientPhase::kHttp && c->http->in.empty() && !c->http->body_needed &&
               !c->http->publish_in_flight) {
      close_now(c);  // an idle keep-alive connection
    }
  }
  update_status();
}

void Server::on_drain_deadline(void* data) noexcept {
  auto* self = static_cast<Server*>(data);
  spdlog::info("drain timeout: closing {} clients", self->clients_.size());
  self->reactor_->stop();
}

void Server::reload() noexcept {
  notify_reloading();
  ConfigResult r = reload_();
  if (!r) {
    ++stats_.reloads_error;
    spdlog::error("reload failed, keeping the running config: {}", r.error.to_string());
    notify_ready();
    return;
  }
  Config next = std::move(*r.config);
  // TLS: the files are read again (a renewed certificate) into a new context for new
  // connections; a bad file fails the whole reload. Turning TLS on or off needs a restart.
  if (next.tls.has_value() != config_.tls.has_value()) {
    spdlog::warn("reload: turning 'tls' on or off takes a restart");
    next.tls = config_.tls;
  }
  std::unique_ptr<net::TlsContext> next_tls;
  if (next.tls) {
    ConfigError err;
    next_tls = make_tls_context(*next.tls, &err);
    if (!next_tls) {
      ++stats_.reloads_error;
      spdlog::error("reload failed, keeping the running config: {}", err.to_string());
      notify_ready();
      return;
    }
  }
  // API keys, the metrics token and rate limits: files are read again; a bad one fails the reload.
  std::vector<ConfigError> access_errors;
  std::unique_ptr<AuthRuntime> next_auth = auth_or_log(next.auth);
  if (!access_.configure(next, &access_errors) || !next_auth) {
    ++stats_.reloads_error;
    spdlog::error("reload failed, keeping the running config: {}",
                  access_errors.empty() ? std::string("auth keys did not load")
                                        : access_errors.front().to_string());
    notify_ready();
    return;
  }
  if (next.listen != config_.listen) spdlog::warn("reload: 'listen' changes only on restart");
  if (next.metrics_listen != config_.metrics_listen)
    spdlog::warn("reload: 'metrics_listen' changes only on restart");
  next.listen = config_.listen;
  next.metrics_listen = config_.metrics_listen;
  config_ = std::move(next);
  if (HistoryStore* h = broker_->history()) h->set_max_bytes(config_.limits.max_history_bytes);
  auth_ = std::move(next_auth);
  set_log_level(config_.log_level);
  if (next_tls) {
    tls_ctx_ = std::move(next_tls);
    spdlog::info("TLS certificate reloaded: {}", tls_ctx_->describe_certificate());
  }
  // Limits and timeouts apply to open connections too.
  for (size_t i = clients_.size(); i-- > 0;) {  // backwards: on_deadline() may close_now()
    Client* c = clients_[i];
    if (c->ws) c->ws->proto.set_limits(ws_limits_for(c->ws->raw_channel));
    on_deadline(c);  // a shorter ping interval or timeout takes effect now
  }
  close_revoked();
  ++stats_.reloads_ok;
  spdlog::info("config reloaded from {}",
               config_.source_path.empty() ? "defaults" : config_.source_path);
  notify_ready();
  update_status();
}

// A reload re-checks every live identity: a revoked sub or jti, or a token signed with a key
// whose kid is gone, ends the connection now (the token itself is not kept to re-verify).
void Server::close_revoked() noexcept {
  for (size_t i = clients_.size(); i-- > 0;) {
    Client* c = clients_[i];
    if (c->phase != ClientPhase::kWebSocket || !c->ws->auth || !c->ws->auth->who) continue;
    const auth::Identity& who = *c->ws->auth->who;
    const bool revoked = auth_->revoked.is_revoked(who);
    if (!revoked && auth_->has_kid(who.kid)) continue;
    spdlog::info("client {}: closed at reload ({})", c->id,
                 revoked ? "token revoked" : "signing key removed");
    ++stats_.auth_failures[revoked ? size_t(auth::AuthFailure::kRevoked)
                                   : size_t(auth::AuthFailure::kUnknownKid)];
    begin_close(c, auth_close::kRevoked, revoked ? "token revoked" : "signing key removed", 1000);
  }
}

int run_server(Config config, ConfigReloader reload) {
  Server server(std::move(config), std::move(reload));
  return server.run();
}

}  // namespace relay::daemon
