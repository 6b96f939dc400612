// SPDX-License-Identifier: MIT
// Transport interfaces under the ws handles, and the one place that blocks: wait_fd() polls
// a file descriptor until an absolute deadline. A Bytestream is non-blocking (tcp.cpp, and
// tls.cpp over another bytestream handle); the blocking semantics of ws.h (deadline 0 =
// try once, -1 = forever) are built on top of it here.
#pragma once

#include <poll.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "ws/handle.h"
#include "ws/wsr_api.h"

namespace relay::ws {

class Bytestream {
 public:
  virtual ~Bytestream() = default;
  // Reads what is available without blocking: n > 0 bytes, 0 at an orderly end of stream;
  // kAgain when nothing is there yet (wait for wait_events(false)), kConnReset on error.
  virtual Result<size_t> read_some(std::span<std::byte> buf) noexcept = 0;
  // Writes what fits without blocking: n >= 0 bytes; kAgain when nothing fits,
  // kConnReset when the connection is broken.
  virtual Result<size_t> write_some(const iovec* iov, int iovcnt) noexcept = 0;
  // The descriptor to poll, and for which events before retrying a read (`for_write`
  // false) or a write. TLS may need POLLOUT to read (a renegotiation) and vice versa.
  virtual int fd() const noexcept = 0;
  virtual short wait_events(bool for_write) const noexcept { return for_write ? POLLOUT : POLLIN; }
  // Input already buffered inside the stream (decrypted TLS records): no poll needed.
  virtual bool has_buffered_input() const noexcept { return false; }
  // Half-close: no more writes (TCP FIN, TLS close_notify).
  virtual void shutdown_write() noexcept = 0;
  // Ends the transport now and wakes anyone blocked on it; the fd itself is released
  // when the object is destroyed.
  virtual void close() noexcept = 0;
};

// Messages on a handle (msend / mrecv): the ws handle implements it with the attach-time
// type; tcp does not (ENOTSUP, as in libdill where TCP is a bytestream).
class MessageSocket {
 public:
  virtual ~MessageSocket() = default;
  virtual int send_message(iolist* first, iolist* last, int64_t deadline) noexcept = 0;
  virtual ssize_t recv_message(iolist* first, iolist* last, int64_t deadline) noexcept = 0;
};

// ECANCELED has no name in Errc (base/result.h); errno values pass through unchanged.
constexpr Errc kCanceled = static_cast<Errc>(ECANCELED);

// Waits until `fd` is ready for `events` or the deadline passes (kTimedOut; deadline 0
// or in the past: at once). kCanceled when `owner` was hclose()d meanwhile (hclose wakes
// the poll by shutting the socket down). EINTR is retried.
Result<void> wait_fd(int fd, short events, int64_t deadline, const HandleObject& owner) noexcept;

// Writes every byte of iov[0..n) (the array is modified), waiting as needed.
Result<void> write_all(Bytestream& bs, iovec* iov, int n, int64_t deadline,
                       const HandleObject& owner) noexcept;
// Reads exactly buf.size() bytes; kPipe if the stream ends first.
Result<void> read_exact(Bytestream& bs, std::span<std::byte> buf, int64_t deadline,
                        const HandleObject& owner) noexcept;

// Checks an iolist as libdill's iolcheck does: the chain from `first` reaches `last`,
// last->iol_next is NULL, every iol_rsvd is 0, no cycle, and no NULL base with a length.
// Returns the total length, or kInvalid.
Result<size_t> check_iolist(iolist* first, iolist* last) noexcept;

// Sets or clears a busy flag for one direction of a handle (EBUSY when taken).
class BusyGuard {
 public:
  explicit BusyGuard(std::atomic<bool>& flag) noexcept
      : flag_(flag), owned_(!flag.exchange(true, std::memory_order_acq_rel)) {}
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  ~BusyGuard() {
    if (owned_) flag_.store(false, std::memory_order_release);
  }
  bool owned() const noexcept { return owned_; }

 private:
  std::atomic<bool>& flag_;
  bool owned_;
};

}  // namespace relay::ws
