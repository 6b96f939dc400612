// SPDX-License-Identifier: MIT
#include "net/event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace relay::net {

std::unique_ptr<EventFd> EventFd::create() noexcept {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return nullptr;
  return std::unique_ptr<EventFd>(new EventFd(fd));
}

EventFd::~EventFd() {
  if (fd_ >= 0) ::close(fd_);
}

void EventFd::signal() noexcept {
  // Orders the caller's push before the test, against clear()'s reset before its pops
  // (each side writes one thing, then reads the other's: both need a full fence).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;  // already woken
  const uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(fd_, &one, sizeof one);
  } while (n < 0 && errno == EINTR);
}

void EventFd::clear() noexcept {
  uint64_t value;
  ssize_t n;
  do {
    n = ::read(fd_, &value, sizeof value);
  } while (n < 0 && errno == EINTR);
  // After the read: a signal() from now on writes again, and the consumer looks at the
  // queue after this, so nothing pushed before that signal is missed.
  pending_.store(false, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace relay::net
