// SPDX-License-Identifier: MIT
// WsSock: blocking WebSocket connections over a non-blocking bytestream. The protocol
// itself (framing, masking, UTF-8, close rules, pong answers) is ws::Protocol's; this
// file only moves bytes between it and the socket and keeps the deadlines.
// Locking: mu_ guards the protocol and the socket's read/write calls and is never held
// while waiting in poll(), so one thread may send while another receives.
#include "ws/ws_sock.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "ws/handshake.h"

namespace relay::ws {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Browsers send long cookies: heads up to 16 KiB are read (RFC 6455 sets no limit).
constexpr HttpLimits kHeadLimits{16 * 1024, 100};

// Copies `bytes` across the iolist entries in order (the list was checked to hold them).
void scatter(std::span<const std::byte> bytes, iolist* it) noexcept {
  size_t off = 0;
  for (; it && off < bytes.size(); it = it->iol_next) {
    size_t n = std::min(it->iol_len, bytes.size() - off);
    if (n) std::memcpy(it->iol_base, bytes.data() + off, n);
    off += n;
  }
}

}  // namespace

WsSock::WsSock(Role role, int flags, int u, HandleRef pin, Bytestream* bs) noexcept
    : proto_(role), u_(u), pin_(std::move(pin)), bs_(bs), flags_(flags) {}

void* WsSock::query(HandleType type) noexcept {
  if (type == HandleType::kWs) return this;
  if (type == HandleType::kMessage) return static_cast<MessageSocket*>(this);
  return nullptr;
}

// hclose(): no close frame (that is ws_detach's job); closing the bytestream also wakes
// a thread blocked in poll() on it, which then reports ECANCELED.
void WsSock::on_close() noexcept { (void)wsr_hclose(u_); }

// ---- opening handshake (no other thread can see the object yet: no locking) ----

Result<void> WsSock::read_more(std::string* buf, int64_t deadline) noexcept {
  for (;;) {
    size_t old = buf->size();
    buf->resize(old + 4096);
    auto r = bs_->read_some({reinterpret_cast<std::byte*>(buf->data() + old), 4096});
    buf->resize(old + (r ? *r : 0));
    if (r && *r > 0) return {};
    if (r) return fail(Errc::kConnReset);  // end of stream inside the head
    if (r.error() != Errc::kAgain) return fail(r.error());
    if (bs_->has_buffered_input()) continue;
    if (auto w = wait_fd(bs_->fd(), bs_->wait_events(false), deadline, *this); !w) return w;
  }
}

Result<void> WsSock::write_bytes(std::string_view bytes, int64_t deadline) noexcept {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  return write_all(*bs_, &iov, 1, deadline, *this);
}

// Reads until `parse` (parse_request or parse_response) sees a whole head, a bad one, or
// more than kHeadLimits allows; *status says which.
Result<void> WsSock::read_head(HeadParser parse, std::string* buf, HttpHead* head, size_t* consumed,
                               HttpParse* status, int64_t deadline) noexcept {
  *status = HttpParse::kNeedMore;
  while (*status == HttpParse::kNeedMore) {
    if (auto r = read_more(buf, deadline); !r) return r;
    *status = parse(as_bytes(*buf), kHeadLimits, head, consumed);
    if (*status == HttpParse::kNeedMore && buf->size() > kHeadLimits.max_head_bytes) {
      *status = HttpParse::kTooLarge;
    }
  }
  return {};
}

Result<void> WsSock::accept_upgrade(char* resource, size_t resourcelen, char* host, size_t hostlen,
                                    int64_t deadline) noexcept {
  std::string buf;
  HttpHead head;
  size_t consumed = 0;
  HttpParse p;
  if (auto r = read_head(parse_request, &buf, &head, &consumed, &p, deadline); !r) return r;
  // RFC 6455 §4.2.2: a request we cannot accept gets an HTTP error, not a silent close.
  int status = p == HttpParse::kBad        ? 400
               : p == HttpParse::kTooLarge ? 431
               : p == HttpParse::kVersion  ? 505
                                           : 0;
  UpgradeRequest up;
  if (!status) status = check_upgrade(head, &up);
  char accept[kAcceptChars + 1];
  if (!status && !compute_accept(up.key, accept)) status = 400;
  bool too_long = !status && (up.target.size() >= resourcelen || up.host.size() >= hostlen);
  if (too_long) status = 431;  // our buffers, not the request, are too small: EMSGSIZE
  std::string resp;
  if (status) {
    build_error_response(&resp, status,
                         status == 426   ? "unsupported WebSocket version\n"
                         : status == 505 ? "unsupported HTTP version\n"
                         : too_long      ? "request target or host too long\n"
                                         : "not a WebSocket upgrade request\n");
    (void)write_bytes(resp, deadline);
    return fail(too_long ? Errc::kMsgSize : Errc::kProto);
  }
  std::memcpy(resource, up.target.data(), up.target.size());
  resource[up.target.size()] = '\0';
  std::memcpy(host, up.host.data(), up.host.size());
  host[up.host.size()] = '\0';
  // WS_DEFLATE: answer the first permessage-deflate offer we can honour (RFC 7692 §5.1).
  DeflateParams deflate;
  std::string extensions;
  if ((flags_ & WS_DEFLATE) && negotiate_deflate(head, &deflate, &extensions))
    proto_.set_deflate(deflate, /*compress_sends=*/true);
  build_accept_response(&resp, accept, {}, extensions);
  if (auto r = write_bytes(resp, deadline); !r) return r;
  // A client may send its first frames right behind the request.
  proto_.feed(as_bytes(buf).subspan(consumed));
  return {};
}

Result<void> WsSock::request_upgrade(const char* resource, const char* host,
                                     int64_t deadline) noexcept {
  char key[kKeyChars + 1];
  make_key(key);
  std::string req;
  const bool offer = (flags_ & WS_DEFLATE) != 0;
  build_client_request(&req, resource, host, key, {}, {}, offer ? deflate_client_offer() : "");
  if (auto r = write_bytes(req, deadline); !r) return r;
  std::string buf;
  HttpHead head;
  size_t consumed = 0;
  HttpParse p;
  if (auto r = read_head(parse_response, &buf, &head, &consumed, &p, deadline); !r) return r;
  // RFC 6455 §4.1: 101, Upgrade, Connection and the accept key for our key, or fail.
  DeflateParams deflate;
  if (p != HttpParse::kComplete ||
      !check_upgrade_response(head, key, {}, offer ? &deflate : nullptr))
    return fail(Errc::kProto);
  if (deflate.enabled) proto_.set_deflate(deflate, /*compress_sends=*/true);
  proto_.feed(as_bytes(buf).subspan(consumed));
  return {};
}

// ---- output ----

Result<void> WsSock::flush_locked() noexcept {
  OutQueue& q = proto_.out();
  while (!q.empty()) {
    iovec iov[64];
    int n = q.gather(iov, 64);
    auto r = bs_->write_some(iov, n);
    if (!r) {
      if (r.error() == Errc::kAgain) return fail(Errc::kAgain);
      broken_ = true;
      q.clear();
      return fail(Errc::kConnReset);
    }
    q.consume(*r);
  }
  return {};
}

Result<void> WsSock::drain(size_t limit, int64_t deadline) noexcept {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (broken_) return fail(Errc::kConnReset);
      if (auto r = flush_locked(); !r && r.error() != Errc::kAgain) return r;
      if (proto_.out().bytes() <= limit) return {};
    }
    if (auto w = wait_fd(bs_->fd(), bs_->wait_events(true), deadline, *this); !w) return w;
  }
}

Result<void> WsSock::send(bool text, std::span<const std::span<const std::byte>> parts,
                          int64_t deadline) noexcept {
  BusyGuard busy(send_busy_);
  if (!busy.owned()) return fail(Errc::kBusy);
  // Over the limit: wait for room; at the deadline fail without queueing anything.
  if (auto r = drain(kSendQueueLimit, deadline); !r) return r;
  {
    std::lock_guard lock(mu_);
    if (broken_) return fail(Errc::kConnReset);
    if (auto r = proto_.send_message(text, parts); !r) return r;  // kPipe after ws_done
    if (auto r = flush_locked(); !r && r.error() != Errc::kAgain) return r;
    if (!proto_.has_pending_output() || deadline == 0) return {};
  }
  // Queued: push it out until the deadline; what is left goes with the next call.
  auto r = drain(0, deadline);
  if (!r && r.error() == Errc::kTimedOut) return {};
  return r;
}

Result<void> WsSock::done_unguarded(uint16_t status, std::string_view reason,
                                    int64_t deadline) noexcept {
  {
    std::lock_guard lock(mu_);
    if (broken_) return fail(Errc::kConnReset);
    if (auto r = proto_.send_close(status, reason); !r) return r;  // kPipe: sent already
  }
  auto r = drain(0, deadline);
  if (!r && r.error() == Errc::kTimedOut) return {};  // queued; ws_detach flushes it
  return r;
}

Result<void> WsSock::done(uint16_t status, std::string_view reason, int64_t deadline) noexcept {
  BusyGuard busy(send_busy_);
  if (!busy.owned()) return fail(Errc::kBusy);
  return done_unguarded(status, reason, deadline);
}

// ---- input ----

template <typename Deliver>
Result<size_t> WsSock::next_message(int64_t deadline, Deliver&& deliver) noexcept {
  for (;;) {
    bool want_write = false;
    {
      std::unique_lock lock(mu_);
      // After the peer's close (RFC 6455 §5.5.1: nothing follows it) every call says EPIPE.
      if (proto_.close_received()) return fail(Errc::kPipe);
      if (proto_.state() == ProtocolState::kFailed) return fail(Errc::kProto);
      if (broken_) return fail(Errc::kConnReset);
      Event ev = proto_.poll_event();
      switch (ev.kind) {
        case EventKind::kMessage: {
          auto r = deliver(ev);
          (void)flush_locked();
          return r;
        }
        case EventKind::kClose:
          (void)flush_locked();
          return fail(Errc::kPipe);
        case EventKind::kError:
          // RFC 6455 §7.1.7: the close frame with 1002/1007/1009 goes out before we report.
          lock.unlock();
          (void)drain(0, deadline);
          return fail(Errc::kProto);
        case EventKind::kPing:  // answered inside the protocol; the pong is queued
        case EventKind::kPong:
          continue;
        case EventKind::kNeedMore:
          break;
      }
      if (auto f = flush_locked(); !f && f.error() != Errc::kAgain) return fail(f.error());
      auto r = bs_->read_some(proto_.input_space(kReadChunk));
      if (r && *r > 0) {
        proto_.commit_input(*r);
        continue;
      }
      if (r || r.error() != Errc::kAgain) {  // end of stream or reset without a close frame
        broken_ = true;
        return fail(Errc::kConnReset);
      }
      want_write = proto_.has_pending_output();
    }
    if (bs_->has_buffered_input()) continue;
    short events = bs_->wait_events(false) | (want_write ? bs_->wait_events(true) : 0);
    if (auto w = wait_fd(bs_->fd(), events, deadline, *this); !w) return fail(w.error());
  }
}

Result<size_t> WsSock::recv(bool* text, iolist* first, size_t cap, int64_t deadline) noexcept {
  BusyGuard busy(recv_busy_);
  if (!busy.owned()) return fail(Errc::kBusy);
  return next_message(deadline, [&](const Event& ev) -> Result<size_t> {
    // Too big for the buffer: the message is dropped whole, the connection stays usable.
    if (ev.payload.size() > cap) return fail(Errc::kMsgSize);
    scatter(ev.payload, first);
    *text = ev.text;
    return ev.payload.size();
  });
}

Result<int> WsSock::detach(uint16_t status, std::string_view reason, int64_t deadline) noexcept {
  BusyGuard send_busy(send_busy_);
  BusyGuard recv_busy(recv_busy_);
  if (!send_busy.owned() || !recv_busy.owned()) return fail(Errc::kBusy);
  bool sent;
  {
    std::lock_guard lock(mu_);
    sent = proto_.close_sent();
  }
  if (!sent) {
    if (auto r = done_unguarded(status, reason, deadline); !r) return fail(r.error());
  }
  // RFC 6455 §7.1.1: the closing handshake ends with the peer's close frame.
  for (;;) {
    auto r = next_message(deadline, [](const Event&) -> Result<size_t> { return size_t{0}; });
    if (r) continue;  // a message the peer sent before its close: dropped
    if (r.error() == Errc::kPipe) break;
    return fail(r.error());
  }
  if (auto r = drain(0, deadline); !r) return fail(r.error());
  return u_;
}

Result<size_t> WsSock::status(int* code, void* buf, size_t len) noexcept {
  std::lock_guard lock(mu_);
  if (!proto_.close_received()) return fail(Errc::kAgain);
  std::string_view reason = proto_.peer_close_reason();
  if (buf && len < reason.size()) return fail(Errc::kMsgSize);
  if (buf && !reason.empty()) std::memcpy(buf, reason.data(), reason.size());
  if (code) *code = proto_.peer_close_code();
  return reason.size();
}

// ---- iolist edge, shared by ws_sendl / ws_recvl (ws.cpp) and msendl / mrecvl ----

int WsSock::sendl(bool text, iolist* first, iolist* last, int64_t deadline) noexcept {
  auto total = check_iolist(first, last);
  if (!total) {
    errno = EINVAL;
    return -1;
  }
  std::vector<std::span<const std::byte>> parts;
  for (iolist* it = first; it; it = it->iol_next)
    if (it->iol_len) parts.emplace_back(static_cast<const std::byte*>(it->iol_base), it->iol_len);
  if (auto r = send(text, parts, deadline); !r) {
    errno = to_errno(r.error());
    return -1;
  }
  return 0;
}

ssize_t WsSock::recvl(int* flags, iolist* first, iolist* last, int64_t deadline) noexcept {
  auto cap = check_iolist(first, last);
  if (!cap) {
    errno = EINVAL;
    return -1;
  }
  bool text = false;
  auto r = recv(&text, first, *cap, deadline);
  if (!r) {
    errno = to_errno(r.error());
    return -1;
  }
  if (flags) *flags = text ? WS_TEXT : WS_BINARY;
  return static_cast<ssize_t>(*r);
}

int WsSock::send_message(iolist* first, iolist* last, int64_t deadline) noexcept {
  return sendl(flags_ & WS_TEXT, first, last, deadline);
}

ssize_t WsSock::recv_message(iolist* first, iolist* last, int64_t deadline) noexcept {
  int flags = 0;
  ssize_t n = recvl(&flags, first, last, deadline);
  if (n >= 0 && (flags & WS_TEXT) != (flags_ & WS_TEXT)) {  // as libdill: the type must match
    errno = EPROTO;
    return -1;
  }
  return n;
}

}  // namespace relay::ws
