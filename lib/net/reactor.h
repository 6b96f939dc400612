// SPDX-License-Identifier: MIT
// Reactor: one thread's event loop. Level-triggered readiness on fds, ms timers and
// before-sleep hooks, as Redis src/ae.c (the kernel API sits in epoll_backend.cpp).
// It knows nothing of WebSocket, never logs and never throws; every callback is noexcept.
//
// One turn (run_once):
//   1. poll, blocking until the nearest timer at most (0 when stop() or skip_next_wait()
//      was requested);
//   2. I/O callbacks for each ready fd, reports for stale fds dropped;
//   3. timer callbacks whose deadline has passed, earliest first, FIFO among equals;
//   4. before-sleep hooks in registration order (the daemon flushes pending writers
//      and frees closed clients here, as Redis beforeSleep).
//
// Usage:
//   auto r = net::Reactor::create();           // Result<std::unique_ptr<Reactor>>
//   (*r)->add(fd, net::kReadable, &on_io, client);
//   net::Timer idle(**r, &on_idle, client);    // caller-owned, no allocation
//   idle.arm_after(30'000);
//   (*r)->add_before_sleep(&flush_pending, server);
//   (*r)->run();                               // until stop()
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "net/poll_backend.h"

namespace relay::net {

// Interest and report bits. kError is only reported (an error or hangup on the fd);
// it arrives together with the fd's interest bits, so the read or write the callback
// then makes meets the error. A callback must act on it (remove and close the fd):
// the fd stays ready, and level-triggered polling reports it again every turn.
inline constexpr uint32_t kReadable = 1u << 0;
inline constexpr uint32_t kWritable = 1u << 1;
inline constexpr uint32_t kError = 1u << 2;

// fd is the registered fd, events the kReadable|kWritable|kError bits that are ready
// (never bits outside the current interest, besides kError), data the pointer given to add().
using IoCallback = void (*)(int fd, uint32_t events, void* data) noexcept;
using HookCallback = void (*)(void* data) noexcept;
using TimerCallback = void (*)(void* data) noexcept;

class Reactor;

// A one-shot or repeating timer with ms resolution, owned by the caller (embed it in
// the client), so arming allocates nothing; the reactor keeps a binary heap of
// pointers: arm and cancel are O(log n), finding the nearest deadline O(1).
// Not copyable or movable. Destroying an armed timer cancels it, so a callback may
// destroy its own timer. Times are reactor.now_ms() based (monotonic ms).
class Timer {
 public:
  Timer(Reactor& reactor, TimerCallback cb, void* data) noexcept
      : reactor_(&reactor), cb_(cb), data_(data) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  // One-shot, delay_ms after reactor.now_ms() (0 = this turn's timer phase when
  // armed from an I/O callback, else the next turn). Re-arming an armed timer moves it.
  void arm_after(int64_t delay_ms) noexcept;
  // One-shot at an absolute monotonic_ms() deadline; a past deadline means "now".
  void arm_at(int64_t deadline_ms) noexcept;
  // Every period_ms (>= 1), first after one period. Missed periods are skipped, not
  // replayed. Cancel from anywhere, including its own callback.
  void arm_every(int64_t period_ms) noexcept;
  void cancel() noexcept;

  bool is_armed() const noexcept { return heap_index_ != kNotArmed; }
  int64_t deadline_ms() const noexcept { return deadline_ms_; }  // valid while armed

 private:
  friend class Reactor;
  static constexpr uint32_t kNotArmed = UINT32_MAX;
  Reactor* reactor_;
  TimerCallback cb_;
  void* data_;
  int64_t deadline_ms_ = 0;
  int64_t period_ms_ = 0;  // 0 = one-shot
  uint64_t seq_ = 0;       // arm order: FIFO among equal deadlines
  uint32_t heap_index_ = kNotArmed;
};

class Reactor {
 public:
  // Opens the backend and the wake() eventfd.
  static Result<std::unique_ptr<Reactor>> create();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  // Closes the backend. Registered fds are not closed (they are the caller's);
  // timers still armed are disarmed so their own destructors do nothing.
  ~Reactor();

  // Registers fd (nonblocking, owned by the caller) with interest kReadable|kWritable
  // (or 0). Each registration gets a new generation, carried in the kernel's event
  // data: a report queued for an fd that was removed, closed and reused within the
  // same turn is dropped, never delivered to the new owner (nginx's instance bit).
  // Errors: the backend's errno (EEXIST when fd is already registered, ENOSPC...).
  Result<void> add(int fd, uint32_t interest, IoCallback cb, void* data) noexcept;
  // Changes the interest; no syscall when it is unchanged, so "arm kWritable only
  // while bytes remain" is cheap to call after every flush. fd must be registered.
  Result<void> modify(int fd, uint32_t interest) noexcept;
  // Unregisters fd: call it BEFORE close(fd). No-op when fd is not registered.
  // Safe inside any callback, for any fd; its pending reports this turn are dropped.
  void remove(int fd) noexcept;
  bool is_registered(int fd) const noexcept;
  uint32_t interest(int fd) const noexcept;  // 0 when not registered

  // Runs cb(data) at the end of every turn, after I/O and timers, in registration
  // order, for the reactor's lifetime. A hook may add hooks (they run the same turn).
  void add_before_sleep(HookCallback cb, void* data);

  // Turns until stop(); a stop() before run() makes it return at once. After it
  // returns, run() may be called again.
  void run() noexcept;
  // One turn; the poll waits at most max_wait_ms (-1 = until an fd or timer is ready).
  void run_once(int max_wait_ms) noexcept;
  // Makes run() return after the current turn, before-sleep hooks included.
  void stop() noexcept { stop_ = true; }
  // The next poll does not wait (timeout 0): a before-sleep hook that left work for the
  // next turn (input it stopped processing) calls it, so that work resumes at once
  // after the fds that are ready now had their turn. Cleared by each poll.
  void skip_next_wait() noexcept { skip_wait_ = true; }
  // Thread-safe and async-signal-safe: a blocked poll returns now.
  void wake() noexcept;

  // Monotonic ms, read once per turn after the poll (as libuv's uv_now).
  int64_t now_ms() const noexcept { return now_ms_; }
  size_t armed_timers() const noexcept { return heap_.size(); }
  size_t registered_fds() const noexcept { return registered_; }
  uint64_t stale_events_dropped() const noexcept { return stale_events_; }

 private:
  friend class Timer;
  struct Slot {
    IoCallback cb = nullptr;  // null = not registered
    void* data = nullptr;
    uint32_t interest = 0;
    uint32_t gen = 0;  // generation of this registration, echoed in the token
  };
  struct Hook {
    HookCallback cb;
    void* data;
  };
  explicit Reactor(PollBackend backend) noexcept;
  void dispatch(const PolledEvent& ev) noexcept;
  int poll_timeout(int max_wait_ms) const noexcept;
  void run_timers() noexcept;
  void run_hooks() noexcept;
  static void on_wake(int fd, uint32_t events, void* data) noexcept;

  // Timer heap (min-heap on {deadline_ms_, seq_}).
  void timer_arm(Timer* t, int64_t deadline_ms, int64_t period_ms) noexcept;
  void timer_cancel(Timer* t) noexcept;
  void heap_remove(uint32_t i) noexcept;
  void heap_up(uint32_t i) noexcept;
  void heap_down(uint32_t i) noexcept;
  static bool timer_before(const Timer* a, const Timer* b) noexcept;
  void heap_set(uint32_t i, Timer* t) noexcept {
    heap_[i] = t;
    t->heap_index_ = i;
  }

  static constexpr int kBatch = 256;  // reports per poll; the rest come next turn
  PollBackend backend_;
  std::vector<Slot> slots_;  // indexed by fd
  std::vector<PolledEvent> events_;
  std::vector<Timer*> heap_;
  std::vector<Hook> hooks_;
  int wake_fd_ = -1;
  bool stop_ = false;
  bool skip_wait_ = false;
  uint32_t next_gen_ = 1;
  uint64_t next_seq_ = 1;
  size_t registered_ = 0;
  uint64_t stale_events_ = 0;
  int64_t now_ms_;
};

inline void Timer::arm_after(int64_t delay_ms) noexcept {
  reactor_->timer_arm(this, reactor_->now_ms() + (delay_ms > 0 ? delay_ms : 0), 0);
}
inline void Timer::arm_at(int64_t deadline_ms) noexcept {
  reactor_->timer_arm(this, deadline_ms, 0);
}
inline void Timer::cancel() noexcept {
  if (is_armed()) reactor_->timer_cancel(this);
}

}  // namespace relay::net
