// SPDX-License-Identifier: MIT
// PollBackend: the kernel readiness API behind the reactor, one backend per file
// (epoll_backend.cpp), as Redis keeps ae_epoll.c behind ae.c. Internal to lib/net:
// the daemon uses Reactor, never this. The backend knows fds, interest bits and an
// opaque 64-bit token per fd; callbacks, generations and timers live in the reactor.
#pragma once

#include <cstdint>

#include "base/result.h"

namespace relay::net {

// One readiness report: the token given at add()/modify() and net::kReadable |
// kWritable | kError bits (see reactor.h).
struct PolledEvent {
  uint64_t token;
  uint32_t events;
};

class PollBackend {
 public:
  // Opens the kernel object (epoll_create1(EPOLL_CLOEXEC)).
  static Result<PollBackend> open();
  PollBackend(PollBackend&& o) noexcept;
  PollBackend& operator=(PollBackend&& o) noexcept;
  PollBackend(const PollBackend&) = delete;
  PollBackend& operator=(const PollBackend&) = delete;
  ~PollBackend();

  // Level-triggered interest in `interest` (kReadable | kWritable, may be 0).
  Result<void> add(int fd, uint32_t interest, uint64_t token) noexcept;
  Result<void> modify(int fd, uint32_t interest, uint64_t token) noexcept;
  // Never fails: an fd that is already closed has left the kernel set by itself.
  void remove(int fd) noexcept;
  // Waits up to timeout_ms (-1 = no limit, 0 = don't block) and fills out[0..max).
  // Returns the number of reports; 0 on timeout or EINTR.
  int poll(int timeout_ms, PolledEvent* out, int max) noexcept;
  static const char* name() noexcept;

 private:
  explicit PollBackend(int kernel_fd) noexcept : kernel_fd_(kernel_fd) {}
  int kernel_fd_ = -1;
};

}  // namespace relay::net
