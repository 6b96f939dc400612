// SPDX-License-Identifier: MIT
// Each client's one timer (net::Timer, an O(log n) heap entry), armed at the nearest of
// its deadlines: the request head or TLS handshake (slow-loris), keep-alive idle, the
// ping interval and pong timeout, the soft queue limit, the close deadline, and giving
// idle input and TLS buffers back, and tokens: the /ws auth timeout and the token's expiry.
// Deadlines move lazily: new input does not re-arm the timer; when it fires, on_deadline() acts on
// what is due and arms the next deadline from the client's current state. An idle connection costs
// nothing until then.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <climits>

#include "server.h"

namespace relay::daemon {
namespace {
// A client quiet this long gives its input buffer and TLS buffers back.
constexpr int64_t kIdleBuffersMs = 100;
constexpr int64_t kNever = INT64_MAX;
}  // namespace

void Server::on_client_timer(void* data) noexcept {
  auto* c = static_cast<Client*>(data);
  if (c->phase != ClientPhase::kDead) c->server->on_deadline(c);
}

void Server::arm_no_later(Client* c, int64_t deadline_ms) noexcept {
  if (c->phase == ClientPhase::kDead) return;
  if (!c->timer.is_armed() || c->timer.deadline_ms() > deadline_ms) c->timer.arm_at(deadline_ms);
}

void Server::set_close_deadline(Client* c, int64_t deadline_ms) noexcept {
  c->close_deadline_ms = deadline_ms;
  arm_no_later(c, deadline_ms);
}

bool Server::set_identity(Client* c, auth::Identity who) noexcept {
  // The first identity takes a slot of its user (a refresh keeps the same sub and slot).
  const bool first = !(c->ws->auth && c->ws->auth->who);
  if (first && !who.sub.empty() &&
      !access_.acquire_user(c->ws->access, who.sub, config_.limits.max_connections_per_user)) {
    stats_.count_refused(RefusedCause::kPerUser);
    begin_close(c, ws::close_code::kPolicyViolation, "too many connections for this user", 1000);
    return false;
  }
  if (!c->ws->auth) c->ws->auth = std::make_unique<ConnAuth>();
  ConnAuth& a = *c->ws->auth;
  a.deadline_ms = 0;
  if (who.exp) {  // exp is wall-clock seconds; the timer runs on the monotonic clock
    const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    const int64_t left_ms = (who.exp + auth_->leeway_s) * 1000 - wall_ms;
    a.deadline_ms = now_ms() + std::max<int64_t>(left_ms, 0);
    arm_no_later(c, a.deadline_ms);
  }
  a.who = std::move(who);
  return true;
}

void Server::note_activity(Client* c) noexcept {
  if (c->buffers_held) return;  // the timer is armed for it already
  c->buffers_held = true;
  arm_no_later(c, now_ms() + kIdleBuffersMs);
}

void Server::note_queue_size(Client* c) noexcept {
  if (!c->ws) return;
  const Limits& lim = config_.limits;
  if (c->queued_bytes() <= lim.queue_soft_bytes) {
    c->ws->soft_over_since_ms = 0;  // the timer finds nothing due and moves on
  } else if (!c->ws->soft_over_since_ms) {
    c->ws->soft_over_since_ms = now_ms();
    arm_no_later(c, now_ms() + int64_t(lim.queue_soft_seconds) * 1000);
  }
}

void Server::on_deadline(Client* c) noexcept {
  const int64_t now = now_ms();
  const Limits& lim = config_.limits;
  int64_t next = kNever;

  if (c->buffers_held) {
    bool held = false;
    if (c->ws) {
      if (now - c->last_input_ms >= kIdleBuffersMs && !c->ws->proto.has_buffered_input())
        c->ws->proto.shrink_idle();  // quiet for a while: give its input buffer back
      else
        held = true;
    }
    if (c->tls) {  // no TLS bytes moved for a whole period: give its I/O buffers back
      if (c->tls_active || !c->tls->release_buffers()) held = true;
      c->tls_active = false;
    }
    c->buffers_held = held;
    if (held) next = now + kIdleBuffersMs;
  }

  switch (c->phase) {
    case ClientPhase::kHttp: {
      HttpSession& h = *c->http;
      if (!h.deadline_ms) break;
      if (now < h.deadline_ms) {
        next = std::min(next, h.deadline_ms);
        break;
      }
      h.deadline_ms = 0;
      if (c->tls && !c->tls->is_established()) {
        // No 408 without a TLS session to send it in: just drop the connection.
        spdlog::debug("client {}: TLS handshake not complete in time", c->id);
        ++stats_.handshake_failures_by_status[408];
        close_now(c);
        return;
      }
      if (h.in.empty() && !h.body_needed && h.keep_alive_idle) {
        close_now(c);  // an idle keep-alive connection: nothing to answer
        return;
      }
      spdlog::debug("client {}: request head not complete in time", c->id);
      ++stats_.handshake_failures_by_status[408];
      http_.refuse(c, 408, "request timeout\n");
      c->close_deadline_ms = now + 1000;
      next = std::min(next, c->close_deadline_ms);
      break;
    }
    case ClientPhase::kWebSocket: {
      WsSession& w = *c->ws;
      if (w.auth && w.auth->deadline_ms) {
        if (now >= w.auth->deadline_ms) {
          const bool expired = w.auth->who.has_value();
          spdlog::debug("client {}: {}", c->id, expired ? "token expired" : "no auth in time");
          if (expired)
            ++stats_.auth_failures[size_t(auth::AuthFailure::kExpired)];
          else
            stats_.count_auth_failure(kAuthMissingSlot);
          w.auth->deadline_ms = 0;
          begin_close(c, expired ? auth_close::kExpired : auth_close::kUnauthorized,
                      expired ? "token expired" : "authentication timeout", 1000);
          next = std::min(next, c->close_deadline_ms);
          break;
        }
        next = std::min(next, w.auth->deadline_ms);
      }
      if (w.ping_sent_ms && now - w.ping_sent_ms >= lim.pong_timeout_ms) {
        spdlog::debug("client {}: no pong in time", c->id);
        begin_close(c, ws::close_code::kGoingAway, "ping timeout", 1000);
        next = std::min(next, c->close_deadline_ms);
        break;
      }
      if (!w.ping_sent_ms && now - c->last_input_ms >= lim.ping_interval_ms) {
        (void)w.proto.send_ping({});
        w.ping_sent_ms = now;
        mark_pending(c);
      }
      next = std::min(next, w.ping_sent_ms ? w.ping_sent_ms + lim.pong_timeout_ms
                                           : c->last_input_ms + lim.ping_interval_ms);
      if (w.soft_over_since_ms) {
        if (c->queued_bytes() <= lim.queue_soft_bytes) {
          w.soft_over_since_ms = 0;
        } else if (now - w.soft_over_since_ms >= int64_t(lim.queue_soft_seconds) * 1000) {
          c->slow_consumer = true;
          mark_pending(c);
        } else {
          next = std::min(next, w.soft_over_since_ms + int64_t(lim.queue_soft_seconds) * 1000);
        }
      }
      break;
    }
    case ClientPhase::kClosing:
      if (c->close_deadline_ms && now >= c->close_deadline_ms) {
        // Everything sent but the client did not answer in time: linger a while, as
        // after a flush. Still sending to it, or lingered already: close.
        if (c->lingering || !output_drained(c)) {
          close_now(c);
          return;
        }
        linger(c);
        if (c->phase == ClientPhase::kDead) return;
      }
      if (c->close_deadline_ms) next = std::min(next, c->close_deadline_ms);
      break;
    case ClientPhase::kDead:
      return;
  }
  if (next == kNever)
    c->timer.cancel();
  else
    c->timer.arm_at(next);
}

}  // namespace relay::daemon
