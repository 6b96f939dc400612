// SPDX-License-Identifier: MIT
// TCP socket helpers for the reactor: address parsing, nonblocking listen/accept,
// socket options, and the writev flush of an OutQueue. Plain syscalls, no reactor
// state, no logging, no WebSocket. Every fd returned is nonblocking and close-on-exec.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/out_queue.h"
#include "base/result.h"

namespace relay::net {

// An IPv4 or IPv6 socket address, ready for bind()/connect().
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const noexcept { return storage.ss_family; }
  uint16_t port() const noexcept;
  // "127.0.0.1:8080" or "[::1]:8080" (numeric, the form parse_address() reads back).
  std::string to_string() const;
};

// Parses "HOST:PORT" where HOST is an IPv4 literal ("0.0.0.0", "127.0.0.1"),
// "localhost" (= 127.0.0.1) or a bracketed IPv6 literal ("[::]", "[::1]"), and
// PORT is 0..65535 in decimal (0 = any free port). No DNS: names other than
// "localhost" are refused, so parsing never blocks.
// Errors: kInvalid for a missing or bad host, a missing, empty, non-decimal or
// out-of-range port, an unbracketed IPv6 literal, a scope id ("%eth0"), trailing bytes.
Result<SocketAddress> parse_address(std::string_view host_port);

// Which address family resolve_address() keeps: only one, or one preferred.
enum class Family : uint8_t { kIpv4, kIpv6, kPreferIpv4, kPreferIpv6 };

// HOST (a name or a literal; null = the wildcard address of the preferred family) and PORT
// to an address with getaddrinfo(), keeping the first result of the family asked for (a
// preference falls back to the other family). `passive`: for bind() (AI_PASSIVE).
// getaddrinfo blocks on a DNS name, never on a literal. Errors: EADDRNOTAVAIL (no address).
Result<SocketAddress> resolve_address(const char* host, uint16_t port, Family family, bool passive);

// socket + SO_REUSEADDR (+ SO_REUSEPORT when reuseport, for one listener per worker)
// + bind + listen(backlog). Returns the nonblocking, close-on-exec listening fd.
// An IPv6 "[::]" listener follows the system's bindv6only default (dual stack on Debian).
// Errors: errno of the failing call (EADDRINUSE, EACCES, EADDRNOTAVAIL, EMFILE...).
Result<int> listen_tcp(const SocketAddress& addr, int backlog, bool reuseport);

// A nonblocking, close-on-exec TCP connection to addr (tests and the load generator).
// The connect may still be in progress (EINPROGRESS is success): wait for kWritable,
// then read SO_ERROR with socket_error().
// EINTR counts as in progress too (connect(2): the connection completes asynchronously).
Result<int> connect_tcp(const SocketAddress& addr);

enum class AcceptStatus : uint8_t {
  kAccepted,    // fd is a new nonblocking, close-on-exec connection
  kWouldBlock,  // no connection waiting: wait for the next readable report
  kExhausted,   // EMFILE/ENFILE/ENOBUFS/ENOMEM: stop accepting for a while
                // (AcceptPause) instead of spinning on a listener that stays readable
  kFailed,      // anything else (error holds errno); the listener is unusable
};
struct Accepted {
  AcceptStatus status;
  int fd = -1;    // valid for kAccepted
  int error = 0;  // errno for kExhausted and kFailed
};

// One accept4(SOCK_NONBLOCK | SOCK_CLOEXEC). Errors that belong to the aborted
// connection, not the listener (ECONNABORTED, EPROTO, ENETDOWN..., as accept(2) lists
// for Linux), and EINTR, are retried a few times and then reported as kWouldBlock.
// Call it in a bounded loop per readable report (e.g. up to 64 times, as Redis
// MAX_ACCEPTS_PER_CALL) until it stops returning kAccepted.
Accepted accept_nonblocking(int listen_fd) noexcept;

Result<void> set_tcp_nodelay(int fd, bool on = true) noexcept;
// SO_SNDBUF: caps what the kernel holds for the socket (it doubles the value for its
// bookkeeping; capped by net.core.wmem_max) and turns its autotuning off.
Result<void> set_send_buffer(int fd, int bytes) noexcept;
// SO_LINGER {on, 0}: the next close() resets the connection and frees its buffers at once.
Result<void> set_linger_reset(int fd) noexcept;
// The bytes in the socket's send queue not yet sent (SIOCOUTQ; 0 on error).
size_t unsent_bytes(int fd) noexcept;
// The local port of a bound fd (for tests that listen on port 0).
Result<uint16_t> local_port(int fd) noexcept;
// The pending SO_ERROR of fd (0 = none), clearing it; e.g. after a nonblocking connect.
int socket_error(int fd) noexcept;

// ---- flushing an OutQueue -----------------------------------------------------------

// Entries per writev (IOV_MAX is 1024 on Linux; Redis' _writevToClient caps at IOV_MAX
// and a byte budget). A loopback sendmsg costs ~3 us whatever it carries, so a
// subscriber that got 256 small frames in one turn should take them in one call:
// 256 instead of 64 cut wsrelay-bench F1 W=256 from 84 to 57 ns of relay CPU per
// delivery. The array lives on writev_queue's stack (4 KiB).
inline constexpr int kMaxIovPerWrite = 256;

enum class FlushStatus : uint8_t {
  kDrained,  // the queue is empty: drop kWritable interest
  kBlocked,  // the kernel buffer is full, bytes remain: keep kWritable interest
  kFailed,   // the connection is broken (error holds errno, e.g. EPIPE, ECONNRESET)
};
struct FlushResult {
  FlushStatus status = FlushStatus::kDrained;
  size_t bytes = 0;  // written by this call (also when kBlocked or kFailed)
  int error = 0;     // errno for kFailed
};

// Writes as much of q as the kernel takes: gathers up to kMaxIovPerWrite entries per
// sendmsg(MSG_NOSIGNAL) (never SIGPIPE; writev for non-sockets) and loops while each
// call is taken whole, stopping at the first short write (the buffer is full, another
// call would only return EAGAIN). Consumed frames leave q; on_sent(const FrameRef&) is
// called for each frame written completely (e.g. for a publish-to-write latency
// histogram from stamp_ns()). Allocates nothing. With max_bytes it stops (kBlocked, bytes
// remain) once that many were written, so one fast reader cannot take a whole loop turn;
// a single writev may go past it by up to kMaxIovPerWrite entries.
template <typename OnSent>
FlushResult writev_queue(int fd, OutQueue& q, OnSent&& on_sent,
                         size_t max_bytes = SIZE_MAX) noexcept;
inline FlushResult writev_queue(int fd, OutQueue& q) noexcept {
  return writev_queue(fd, q, [](const FrameRef&) {});
}

namespace detail {
// One gather-write of iov[0..n); returns bytes written or -1 with errno (EINTR retried).
// Called only through write_loop() (writev_queue here, flush_tls_output in tls_io.h).
ssize_t write_iov(int fd, const iovec* iov, int n) noexcept;

// The one write loop under writev_queue and flush_tls_output: gather(iov, max) fills up to
// max iovecs from the source (0 = nothing left), consume(n) drops n written bytes. Loops
// while each write is taken whole and stops at the first short one (the kernel buffer is
// full, another call would only return EAGAIN), or once max_bytes were written (kBlocked:
// the caller's budget for this turn is spent).
template <int MaxIov, typename Gather, typename Consume>
FlushResult write_loop(int fd, Gather&& gather, Consume&& consume,
                       size_t max_bytes = SIZE_MAX) noexcept {
  FlushResult r;
  iovec iov[MaxIov];
  for (;;) {
    const int n = gather(iov, MaxIov);
    if (n == 0) break;
    size_t asked = 0;
    for (int i = 0; i < n; ++i) asked += iov[i].iov_len;
    const ssize_t w = write_iov(fd, iov, n);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        r.status = FlushStatus::kBlocked;
      } else {
        r.status = FlushStatus::kFailed;
        r.error = errno;
      }
      return r;
    }
    consume(size_t(w));
    r.bytes += size_t(w);
    if (size_t(w) < asked || r.bytes >= max_bytes) {
      r.status = FlushStatus::kBlocked;
      return r;
    }
  }
  r.status = FlushStatus::kDrained;
  return r;
}
}  // namespace detail

template <typename OnSent>
FlushResult writev_queue(int fd, OutQueue& q, OnSent&& on_sent, size_t max_bytes) noexcept {
  auto gather = [&](iovec* iov, int max) {
    if (q.empty()) return 0;
    const int n = q.gather(iov, max);
    if (n == 0) q.consume(0, on_sent);  // only zero-length frames are left
    return n;
  };
  auto consume = [&](size_t n) { q.consume(n, on_sent); };
  return detail::write_loop<kMaxIovPerWrite>(fd, gather, consume, max_bytes);
}

}  // namespace relay::net
