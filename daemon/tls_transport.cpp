// SPDX-License-Identifier: MIT
// TlsTransport: a client's TLS engine (lib/net/tls_engine.h) between its socket and the
// same HTTP and WebSocket paths plain clients use. Reading: recv ciphertext into the engine,
// decrypt everything it holds into the HTTP session's input or the ws protocol, then process it
// once. Flushing: send the engine's ciphertext, encrypt more of the client's queue (16 KiB
// records), repeat until the socket is full, the queue is empty or 512 KiB went out this turn. A
// client that fails its handshake (garbage instead of a ClientHello) is dropped alone, counted,
// logged at debug.
#include "tls_transport.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/clock.h"
#include "net/tls_io.h"
#include "server.h"

namespace relay::daemon {
namespace {

constexpr size_t kReadChunk = 16 * 1024;  // as client_io.cpp: room offered per decrypt
constexpr int kMaxDecrypts = 64;          // per wake-up; the input buffer holds < 2 records
// 16 KiB records per flush: 512 KiB, as client_io.cpp's kMaxWriteBytesPerTurn, then the
// next writable event (fairness between clients).
constexpr int kMaxRecordsPerFlush = 32;

}  // namespace

std::unique_ptr<net::TlsContext> make_tls_context(const TlsConfig& tls, ConfigError* error) {
  net::TlsContextError err;
  auto ctx = net::TlsContext::create_server(tls.cert, tls.key, &err);
  if (!ctx && error)
    *error = ConfigError{err.file == net::TlsFile::kKey ? "/tls/key" : "/tls/cert", err.message};
  return ctx;
}

void TlsTransport::read(Client* c) noexcept {
  std::span<std::byte> space = c->tls->input_space();
  if (space.empty()) {
    // The engine cannot take more before it sends what it has (a client that sends
    // but does not read): stop reading until a flush has made room.
    c->tls_want_output = true;
    server_.set_interest(c, net::kWritable);
    return;
  }
  ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    // TCP ended without a close frame (RFC 6455 §7.1.5 code 1006) or a close_notify.
    if (c->ws && !c->close_code) c->close_code = ws::close_code::kAbnormal;
    server_.close_now(c);
    return;
  }
  if (n < 0) return;
  c->tls->commit_input(size_t(n));
  c->tls_active = true;
  server_.note_activity(c);
  decrypt(c);
}

void TlsTransport::decrypt(Client* c) noexcept {
  c->tls_want_output = false;
  bool got = false;
  bool ended = false;
  for (int i = 0; i < kMaxDecrypts; ++i) {
    // Into whichever path the client is on now; an upgrade happens only in processing
    // below, which moves what is left of the HTTP input into the ws protocol itself.
    std::span<std::byte> dst =
        c->ws ? c->ws->proto.input_space(kReadChunk) : c->http->in.space(kReadChunk);
    net::TlsIo r = c->tls->read(dst);
    if (r.status == net::TlsStatus::kOk && r.bytes > 0) {
      if (c->ws)
        c->ws->proto.commit_input(r.bytes);
      else
        c->http->in.commit(r.bytes);
      got = true;
      continue;
    }
    if (r.status == net::TlsStatus::kWantOutput) c->tls_want_output = true;
    if (r.status == net::TlsStatus::kClosed) ended = true;
    if (r.status == net::TlsStatus::kFailed) {
      fail(c);
      return;
    }
    break;
  }
  if (c->tls->has_pending_output()) server_.mark_pending(c);  // handshake flights, tickets, alerts
  if (got) {
    if (c->ws)
      server_.after_ws_input(c);
    else
      server_.after_http_input(c);
  }
  if (ended && c->phase != ClientPhase::kDead) {
    // close_notify: the client will send nothing more. What it sent is processed;
    // answers still queued are not worth waiting for.
    if (c->ws && !c->close_code) c->close_code = ws::close_code::kAbnormal;
    server_.close_now(c);
  }
}

net::FlushResult TlsTransport::flush(Client* c) noexcept {
  net::TlsEngine& tls = *c->tls;
  const int64_t now_ns = monotonic_ns();
  auto on_sent = [&](const FrameRef& f) {
    if (int64_t t = f.stamp_ns()) server_.stats().observe_latency(double(now_ns - t) * 1e-9);
  };
  net::FlushResult total;
  for (int i = 0; i < kMaxRecordsPerFlush; ++i) {
    net::FlushResult r = net::flush_tls_output(c->fd, tls);
    total.bytes += r.bytes;
    if (r.bytes) {
      c->tls_active = true;
      server_.note_activity(c);
    }
    if (r.status != net::FlushStatus::kDrained) {
      total.status = r.status;
      total.error = r.error;
      return total;
    }
    if (c->tls_want_output) {  // the handshake (or a read) waited for this room
      decrypt(c);
      if (c->phase == ClientPhase::kDead) return total;
      continue;
    }
    OutQueue& q = c->out();
    if (q.empty() || !tls.is_established()) break;
    net::TlsIo w = tls.write_queue(q, on_sent);
    if (w.status == net::TlsStatus::kFailed) {
      total.status = net::FlushStatus::kFailed;
      total.error = EPROTO;
      return total;
    }
  }
  total.status = tls.has_pending_output() || (tls.is_established() && !c->out().empty())
                     ? net::FlushStatus::kBlocked
                     : net::FlushStatus::kDrained;
  return total;
}

bool TlsTransport::wants_write(Client* c) noexcept {
  return c->tls->has_pending_output() || (c->tls->is_established() && !c->out().empty());
}

void TlsTransport::fail(Client* c) noexcept {
  if (!c->tls->is_established()) {
    // Garbage instead of a ClientHello, a protocol version we do not speak, no common
    // cipher or ALPN protocol: counted with the refused upgrades as a bad request.
    ++server_.stats().handshake_failures_by_status[400];
    spdlog::debug("client {}: TLS handshake failed: {}", c->id, c->tls->error());
  } else {
    spdlog::debug("client {}: TLS error: {}", c->id, c->tls->error());
    if (c->ws && !c->close_code) c->close_code = ws::close_code::kAbnormal;
  }
  server_.close_now(c);  // sends the alert OpenSSL queued, if the socket takes it
}

void TlsTransport::goodbye(Client* c) noexcept {
  c->tls->shutdown();  // close_notify once established; nothing after a failure
  (void)net::flush_tls_output(c->fd, *c->tls);
}

}  // namespace relay::daemon
