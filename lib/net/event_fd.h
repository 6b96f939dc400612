// SPDX-License-Identifier: MIT
// EventFd: a nonblocking eventfd another thread signals to wake this thread's reactor
// (register fd() with kReadable). signal() coalesces: only the first signal after the
// consumer's clear() writes to the kernel, so a burst of pushes into a queue costs one
// syscall, not one per item.
//
//   consumer (its reactor's callback):  ev.clear(); while (auto x = q.try_pop()) ...;
//   producer (any thread):              q.try_push(x); ev.signal();
#pragma once

#include <atomic>
#include <memory>

namespace relay::net {

class EventFd {
 public:
  // Null (errno set) when the kernel refuses one.
  static std::unique_ptr<EventFd> create() noexcept;
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd();

  int fd() const noexcept { return fd_; }
  // Any thread: wakes the consumer unless a wake-up is already pending.
  void signal() noexcept;
  // The consumer, before it looks at what the producers left: the next signal() writes again.
  void clear() noexcept;

 private:
  explicit EventFd(int fd) noexcept : fd_(fd) {}
  int fd_;
  std::atomic<bool> pending_{false};
};

}  // namespace relay::net
