// SPDX-License-Identifier: MIT
// A client's socket: reading into its buffers, flushing its queue with writev, and
// closing. Frames are never written here one by one: deliveries are queued and the
// before-sleep hook flushes each pending client once per loop turn.
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"
#include "net/socket.h"
#include "server.h"

namespace relay::daemon {
namespace {
constexpr size_t kReadChunk = 16 * 1024;
constexpr uint16_t kSlowConsumerCode = 4008;  // README: slow consumer, reconnect
// Bytes written to one client per flush (Redis' NET_MAX_WRITES_PER_EVENT is 64 KiB);
// a client with more keeps kWritable interest and gets the rest in the next turn, after
// every other ready client had its turn. 512 KiB is about 120 us of loopback copying:
// small next to a turn's other work, large enough that a bulk reader pays one extra
// epoll_wait per 512 KiB (well under 1%), and a TLS flush is 32 records of it.
constexpr size_t kMaxWriteBytesPerTurn = 512 * 1024;
// Lingering close (nginx's lingering_close): after the last byte of a close frame or an
// error response, the write side is shut and input is read and dropped until the client
// closes, for at most kLingerMs and kLingerMaxKiB (README "Closing"). Closing with
// input unread makes the kernel send RST, and a client that is still sending (a 1 MiB
// message over the limit) then loses the close frame waiting in its receive buffer.
constexpr int64_t kLingerMs = 2000;
constexpr uint32_t kLingerMaxKiB = 8 * 1024;  // counted in KiB (each read rounded up)
constexpr int kLingerReadsPerWake = 4;        // 256 KiB, then the other clients' turn
}  // namespace

Client::Client(Server* s, net::Reactor& reactor, uint64_t client_id, int socket_fd,
               ListenerKind kind, int64_t now_ms)
    : server(s),
      id(client_id),
      http(std::make_unique<HttpSession>()),
      timer(reactor, &Server::on_client_timer, this),
      last_input_ms(now_ms),
      fd(socket_fd),
      listener(kind) {}

Client::~Client() = default;

void Client::deliver(const FrameRef& frame) noexcept {
  if (phase != ClientPhase::kWebSocket || slow_consumer) return;
  // permessage-deflate subscribers get the message's one shared compressed frame.
  const ws::DeflateParams& z = ws->proto.deflate();
  (void)ws->proto.send_prepared(z.enabled ? server->fanout().frame_for(frame, z) : frame);
  server->note_queued(this);  // the hard limit now, the soft one at the flush
}

void Server::on_readable(Client* c) noexcept {
  if (c->lingering) {
    read_lingering(c);
  } else if (c->tls) {
    tls_.read(c);
  } else if (c->ws) {
    read_ws(c);
  } else {
    read_http(c);
  }
}

void Server::read_http(Client* c) noexcept {
  if (reading_stopped(c)) return;  // an error report while not read: handled on resuming
  // Bounded: a head may not exceed max_header_bytes, a body not the message limit.
  auto space = c->http->in.space(kReadChunk);
  ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_now(c);
    return;
  }
  if (n < 0) return;
  c->http->in.commit(size_t(n));
  after_http_input(c);
}

void Server::after_http_input(Client* c) noexcept {
  c->last_input_ms = now_ms();
  if (c->phase == ClientPhase::kHttp)
    http_.process(c);
  else
    c->http->in.clear();  // closing: whatever else arrives is ignored
}

void Server::read_ws(Client* c) noexcept {
  if (reading_stopped(c)) return;  // an error report while not read: handled on resuming
  auto space = c->ws->proto.input_space(kReadChunk);
  ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    // The TCP connection ended without a close handshake: RFC 6455 §7.1.5 code 1006.
    if (!c->close_code) c->close_code = ws::close_code::kAbnormal;
    close_now(c);
    return;
  }
  if (n < 0) return;
  c->ws->proto.commit_input(size_t(n));
  after_ws_input(c);
}

void Server::after_ws_input(Client* c) noexcept {
  c->last_input_ms = now_ms();
  c->ws->ping_sent_ms = 0;  // any traffic proves the client is alive
  // The input buffer stays while the client is active (no malloc/free per read); the
  // client's timer gives it back once the client has been quiet for a while.
  note_activity(c);
  process_ws_events(c);
}

void Server::flush_pending() noexcept {
  flush_pending_list();
  stats_.queued_bytes = budget_.total();
  // After the writes, so that a queue one writev empties is not taken for a large one;
  // the evicted clients' closes then go out in this turn.
  if (budget_.over(config_.limits.max_total_queue_bytes)) {
    evict_largest_queues();
    flush_pending_list();
  }
}

void Server::flush_pending_list() noexcept {
  // The clients served in this turn's dispatch first, the deliveries of held input resumed
  // in the previous before-sleep last (fair_turns.cpp): a message on a quiet channel does
  // not wait behind the writev of every subscriber of a flooded one.
  // flush() may mark more clients pending (never the same one twice): index loops.
  const size_t resumed = std::min(resumed_pending_, pending_.size());
  resumed_pending_ = 0;
  size_t i = resumed;
  for (; i < pending_.size(); ++i) flush_entry(pending_[i]);
  for (size_t j = 0; j < resumed; ++j) flush_entry(pending_[j]);
  for (; i < pending_.size(); ++i) flush_entry(pending_[i]);  // marked by those flushes
  pending_.clear();
}

void Server::flush_entry(Client* c) noexcept {
  if (!c->pending_write) return;  // flushed already in this pass
  c->pending_write = false;
  if (c->phase != ClientPhase::kDead) flush(c);
}

void Server::flush(Client* c) noexcept {
  if (c->slow_consumer && c->phase == ClientPhase::kWebSocket) handle_slow_consumer(c);
  OutQueue& q = c->out();
  net::FlushResult r;
  if (c->write_blocked && !c->tls) {
    // The kernel's buffer was full at the last write: until it reports kWritable, more
    // deliveries only queue. Otherwise 2,000 readers that stopped reading would cost
    // 2,000 writev calls failing with EAGAIN per message.
    note_written(c);
    if (c->phase == ClientPhase::kWebSocket) note_queue_size(c);
    return;
  }
  if (c->tls) {
    r = tls_.flush(c);
    if (c->phase == ClientPhase::kDead) return;  // a resumed handshake failed
  } else if (!q.empty()) {
    int64_t now_ns = monotonic_ns();
    r = net::writev_queue(
        c->fd, q,
        [&](const FrameRef& f) {
          if (int64_t t = f.stamp_ns()) stats_.observe_latency(double(now_ns - t) * 1e-9);
        },
        kMaxWriteBytesPerTurn);
    // A short write (not the turn's budget spent): the kernel's buffer is full. Its unsent
    // bytes count for the limits; SIOCOUTQ is a system call, so only then.
    c->write_blocked = r.status == net::FlushStatus::kBlocked && r.bytes < kMaxWriteBytesPerTurn;
    c->kernel_unsent = c->write_blocked ? uint32_t(net::unsent_bytes(c->fd)) : 0;
  }
  if (r.status == net::FlushStatus::kFailed) {
    if (!c->close_code) c->close_code = ws::close_code::kAbnormal;
    close_now(c);
    return;
  }
  note_written(c);
  // c->out(), not q: a resumed TLS handshake may have upgraded the client meanwhile.
  bool drained = output_drained(c);
  if (drained && c->phase == ClientPhase::kClosing && c->close_when_flushed) {
    linger(c);
    return;
  }
  if (c->phase == ClientPhase::kWebSocket) note_queue_size(c);  // over the soft limit, or back
  // TLS: plaintext waiting for the handshake is no reason to wait for kWritable.
  bool want_write = c->tls ? tls_.wants_write(c) : !drained;
  // Not read while its turn's budget is spent or it is pushed back (fair_turns.cpp).
  uint32_t interest = (reading_stopped(c) ? 0 : net::kReadable) | (want_write ? net::kWritable : 0);
  (void)reactor_->modify(c->fd, interest);
}

void Server::note_written(Client* c) noexcept {
  budget_.update(c->queue_accounted, c->own_bytes());
  // Replies the engine queued itself (pongs, close echoes) are judged here too.
  if (c->phase == ClientPhase::kWebSocket && !c->slow_consumer &&
      c->queued_bytes() > config_.limits.max_queue_bytes) {
    c->slow_consumer = true;
    mark_pending(c);  // flushed again later in this turn: handle_slow_consumer()
  }
}

void Server::handle_slow_consumer(Client* c) noexcept {
  ++stats_.slow_consumer_closes;
  log_limited(log_limiter_, spdlog::level::info, "slow-consumer",
              "client {}: slow consumer ({} bytes queued), closing", c->id, c->queued_bytes());
  // Frames not yet started are dropped: the close must not wait behind megabytes the
  // client is not reading. A partly written frame stays, or the stream would break.
  c->out().drop_unstarted();
  budget_.update(c->queue_accounted, c->own_bytes());
  c->slow_consumer = false;
  begin_close(c, kSlowConsumerCode, "slow consumer", 2000);
}

void Server::begin_close(Client* c, uint16_t code, std::string_view reason,
                         int64_t wait_ms) noexcept {
  if (c->phase == ClientPhase::kClosing || c->phase == ClientPhase::kDead) return;
  if (c->ws) {
    leave_all_channels(c);
    ws::Protocol& p = c->ws->proto;
    if (!p.close_sent()) (void)p.send_close(code, reason);
    if (!c->close_code) c->close_code = code;
    // We wait for the client's close frame (RFC 6455 §7.1.2) until the deadline.
    c->close_when_flushed = p.close_received() || p.state() == ws::ProtocolState::kFailed;
  } else {
    c->close_when_flushed = true;
  }
  c->phase = ClientPhase::kClosing;
  set_close_deadline(c, now_ms() + wait_ms);
  mark_pending(c);
}

bool Server::output_drained(Client* c) noexcept {
  return c->out().empty() && !(c->tls && c->tls->has_pending_output());
}

void Server::linger(Client* c) noexcept {
  if (c->lingering || c->phase == ClientPhase::kDead) return;
  if (c->tls) tls_.goodbye(c);  // close_notify goes before the FIN
  c->phase = ClientPhase::kClosing;
  if (::shutdown(c->fd, SHUT_WR) != 0) {
    close_now(c);
    return;
  }
  c->lingering = true;
  ++lingering_;
  set_interest(c, net::kReadable);
  set_close_deadline(c, now_ms() + kLingerMs);
  read_lingering(c);  // input already waiting, perhaps up to the client's FIN
}

void Server::read_lingering(Client* c) noexcept {
  // Shared by every lingering client of this worker's thread: what lands here is never
  // looked at (one per thread all the same: concurrent writes are a data race).
  thread_local std::byte scratch[64 * 1024];
  for (int i = 0; i < kLingerReadsPerWake; ++i) {
    ssize_t n = ::recv(c->fd, scratch, sizeof scratch, 0);
    if (n > 0) {
      c->linger_kib =
          uint16_t(std::min<size_t>(c->linger_kib + (size_t(n) + 1023) / 1024, kLingerMaxKiB));
      if (c->linger_kib < kLingerMaxKiB) continue;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    }
    close_now(c);  // EOF (the client is done), an error, or it sent too much
    return;
  }
}

void Server::close_now(Client* c) noexcept {
  if (c->phase == ClientPhase::kDead) return;
  if (c->ws) {
    leave_all_channels(c);
    ++stats_.closed_by_code[c->close_code ? c->close_code : ws::close_code::kAbnormal];
    --ws_clients_;
  }
  spdlog::debug("client {} closed (code {})", c->id, c->close_code);
  if (c->lingering) --lingering_;
  if (c->counted) --(c->listener == ListenerKind::kPublic ? public_open_ : metrics_open_);
  if (c->tls && !c->lingering) tls_.goodbye(c);
  budget_.update(c->queue_accounted, 0);
  // A slow consumer's unsent bytes would outlive close() in the kernel (an orphan socket
  // probing a closed window for minutes): a reset frees them now.
  if (c->close_code == kSlowConsumerCode && net::unsent_bytes(c->fd))
    (void)net::set_linger_reset(c->fd);
  reactor_->remove(c->fd);
  ::close(c->fd);
  c->fd = -1;
  c->phase = ClientPhase::kDead;
  c->timer.cancel();
  --stats_.connections;
  // Swap-remove from the live list; the client itself is freed in before-sleep.
  Client* last = clients_.back();
  clients_[c->index] = last;
  last->index = c->index;
  clients_.pop_back();
  dead_.push_back(c);
  if (public_pause_ && public_pause_->is_paused()) public_pause_->resume();
}

void Server::free_dead() noexcept {
  // A client whose publish the broker has not answered yet stays allocated until it has
  // (the completion then finds it dead and drops the reply).
  size_t kept = 0;
  for (Client* c : dead_) {
    if (c->publishes_in_flight)
      dead_[kept++] = c;
    else
      delete c;
  }
  dead_.resize(kept);
}

}  // namespace relay::daemon
