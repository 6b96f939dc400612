// SPDX-License-Identifier: MIT
// Blocking on top of non-blocking bytestreams: wait_fd() is the only poll() in the engine's
// handle layer. Also the generic handle calls of ws.h that dispatch on the interface an
// object implements: msend/mrecv (MessageSocket) and bsend/brecv (Bytestream).
#include "ws/bytestream.h"

#include <climits>

#include "base/clock.h"

namespace relay::ws {

Result<void> wait_fd(int fd, short events, int64_t deadline, const HandleObject& owner) noexcept {
  for (;;) {
    if (owner.is_cancelled()) return fail(kCanceled);
    int timeout = -1;
    if (deadline >= 0) {
      // Deadline 0 or in the past: the caller has tried once already.
      int64_t left = deadline - monotonic_ms();
      if (deadline == 0 || left <= 0) return fail(Errc::kTimedOut);
      timeout = left > INT_MAX ? INT_MAX : static_cast<int>(left);
    }
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, timeout);
    if (owner.is_cancelled()) return fail(kCanceled);
    if (rc > 0) return {};  // ready, or an error the next read/write will report
    if (rc < 0 && errno != EINTR) return fail(Errc::kConnReset);
    // rc == 0 (timeout slice over) or EINTR: recheck the deadline.
  }
}

Result<void> write_all(Bytestream& bs, iovec* iov, int n, int64_t deadline,
                       const HandleObject& owner) noexcept {
  int i = 0;
  while (i < n) {
    if (iov[i].iov_len == 0) {
      ++i;
      continue;
    }
    auto r = bs.write_some(iov + i, n - i);
    if (r) {
      size_t done = *r;
      while (i < n && done >= iov[i].iov_len) done -= iov[i++].iov_len;
      if (i < n) {
        iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + done;
        iov[i].iov_len -= done;
      }
      continue;
    }
    if (r.error() != Errc::kAgain) return fail(r.error());
    if (auto w = wait_fd(bs.fd(), bs.wait_events(true), deadline, owner); !w) return w;
  }
  return {};
}

Result<void> read_exact(Bytestream& bs, std::span<std::byte> buf, int64_t deadline,
                        const HandleObject& owner) noexcept {
  size_t got = 0;
  while (got < buf.size()) {
    auto r = bs.read_some(buf.subspan(got));
    if (r) {
      if (*r == 0) return fail(Errc::kPipe);
      got += *r;
      continue;
    }
    if (r.error() != Errc::kAgain) return fail(r.error());
    if (bs.has_buffered_input()) continue;
    if (auto w = wait_fd(bs.fd(), bs.wait_events(false), deadline, owner); !w) return w;
  }
  return {};
}

Result<size_t> check_iolist(iolist* first, iolist* last) noexcept {
  if (!first && !last) return size_t{0};
  if (!first || !last || last->iol_next) return fail(Errc::kInvalid);
  // Mark visited entries through iol_rsvd, as libdill does, to catch cycles; undo after.
  size_t total = 0;
  size_t marked = 0;
  bool ok = true;
  for (iolist* it = first; it; it = it->iol_next) {
    if (it->iol_rsvd != 0 || (!it->iol_next && it != last) || (!it->iol_base && it->iol_len) ||
        total + it->iol_len < total) {
      ok = false;
      break;
    }
    it->iol_rsvd = 1;
    ++marked;
    total += it->iol_len;
  }
  iolist* it = first;
  for (size_t k = 0; k < marked; ++k, it = it->iol_next) it->iol_rsvd = 0;
  if (!ok) return fail(Errc::kInvalid);
  return total;
}

}  // namespace relay::ws

using relay::ws::Bytestream;
using relay::ws::HandleRef;
using relay::ws::HandleType;
using relay::ws::MessageSocket;

extern "C" {

int wsr_msendl(int s, struct iolist* first, struct iolist* last, int64_t deadline) {
  HandleRef pin;
  auto* m = relay::ws::hquery_as<MessageSocket>(s, HandleType::kMessage, &pin);
  if (!m) return -1;
  return m->send_message(first, last, deadline);
}

ssize_t wsr_mrecvl(int s, struct iolist* first, struct iolist* last, int64_t deadline) {
  HandleRef pin;
  auto* m = relay::ws::hquery_as<MessageSocket>(s, HandleType::kMessage, &pin);
  if (!m) return -1;
  return m->recv_message(first, last, deadline);
}

int wsr_msend(int s, const void* buf, size_t len, int64_t deadline) {
  if (!buf && len) {
    errno = EINVAL;
    return -1;
  }
  iolist iol{const_cast<void*>(buf), len, nullptr, 0};
  return wsr_msendl(s, &iol, &iol, deadline);
}

ssize_t wsr_mrecv(int s, void* buf, size_t len, int64_t deadline) {
  if (!buf && len) {
    errno = EINVAL;
    return -1;
  }
  iolist iol{buf, len, nullptr, 0};
  return wsr_mrecvl(s, &iol, &iol, deadline);
}

int wsr_bsend(int s, const void* buf, size_t len, int64_t deadline) {
  if (!buf && len) {
    errno = EINVAL;
    return -1;
  }
  HandleRef pin;
  auto* bs = relay::ws::hquery_as<Bytestream>(s, HandleType::kBytestream, &pin);
  if (!bs) return -1;
  iovec iov{const_cast<void*>(buf), len};
  if (auto r = relay::ws::write_all(*bs, &iov, 1, deadline, *pin.get()); !r) {
    errno = relay::to_errno(r.error());
    return -1;
  }
  return 0;
}

int wsr_brecv(int s, void* buf, size_t len, int64_t deadline) {
  if (!buf && len) {
    errno = EINVAL;
    return -1;
  }
  HandleRef pin;
  auto* bs = relay::ws::hquery_as<Bytestream>(s, HandleType::kBytestream, &pin);
  if (!bs) return -1;
  auto r = relay::ws::read_exact(*bs, {static_cast<std::byte*>(buf), len}, deadline, *pin.get());
  if (!r) {
    errno = relay::to_errno(r.error());
    return -1;
  }
  return 0;
}

}  // extern "C"
