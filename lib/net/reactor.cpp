// SPDX-License-Identifier: MIT
// The reactor's turn: poll, dispatch with generation checks, expire timers from a
// binary heap, run before-sleep hooks. The kernel API is in epoll_backend.cpp.
#include "net/reactor.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "base/assert.h"
#include "base/clock.h"

namespace relay::net {
namespace {

uint64_t make_token(int fd, uint32_t gen) noexcept { return (uint64_t(gen) << 32) | uint32_t(fd); }

}  // namespace

Result<std::unique_ptr<Reactor>> Reactor::create() {
  auto backend = PollBackend::open();
  if (!backend) return fail(backend.error());
  std::unique_ptr<Reactor> r(new Reactor(std::move(*backend)));
  r->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->wake_fd_ < 0) return fail(static_cast<Errc>(errno));
  if (auto ok = r->add(r->wake_fd_, kReadable, &Reactor::on_wake, r.get()); !ok)
    return fail(ok.error());
  return r;
}

Reactor::Reactor(PollBackend backend) noexcept
    : backend_(std::move(backend)), events_(kBatch), now_ms_(monotonic_ms()) {}

Reactor::~Reactor() {
  for (Timer* t : heap_) t->heap_index_ = Timer::kNotArmed;
  if (wake_fd_ >= 0) {
    remove(wake_fd_);
    ::close(wake_fd_);
  }
}

// ---- fds ----------------------------------------------------------------------------

Result<void> Reactor::add(int fd, uint32_t interest, IoCallback cb, void* data) noexcept {
  RELAY_ASSERT(fd >= 0 && cb != nullptr);
  interest &= kReadable | kWritable;
  if (size_t(fd) < slots_.size() && slots_[fd].cb) return fail(Errc(EEXIST));
  uint32_t gen = next_gen_++;
  if (auto ok = backend_.add(fd, interest, make_token(fd, gen)); !ok) return ok;
  if (size_t(fd) >= slots_.size())
    slots_.resize(std::max<size_t>(size_t(fd) + 1, slots_.size() * 2));
  slots_[fd] = Slot{cb, data, interest, gen};
  ++registered_;
  return {};
}

Result<void> Reactor::modify(int fd, uint32_t interest) noexcept {
  RELAY_ASSERT(is_registered(fd));
  interest &= kReadable | kWritable;
  Slot& s = slots_[fd];
  if (s.interest == interest) return {};
  if (auto ok = backend_.modify(fd, interest, make_token(fd, s.gen)); !ok) return ok;
  s.interest = interest;
  return {};
}

void Reactor::remove(int fd) noexcept {
  if (!is_registered(fd)) return;
  backend_.remove(fd);
  slots_[fd] = Slot{};
  --registered_;
}

bool Reactor::is_registered(int fd) const noexcept {
  return fd >= 0 && size_t(fd) < slots_.size() && slots_[fd].cb != nullptr;
}

uint32_t Reactor::interest(int fd) const noexcept {
  return is_registered(fd) ? slots_[fd].interest : 0;
}

// A report whose generation differs from the slot's belongs to an fd that was removed
// (and maybe reused) after the kernel queued it: drop it, as nginx checks `instance`.
void Reactor::dispatch(const PolledEvent& ev) noexcept {
  int fd = int(uint32_t(ev.token));
  uint32_t gen = uint32_t(ev.token >> 32);
  if (size_t(fd) >= slots_.size() || !slots_[fd].cb || slots_[fd].gen != gen) {
    ++stale_events_;
    return;
  }
  const Slot s = slots_[fd];  // a copy: the callback may add fds and grow slots_
  uint32_t events = ev.events & s.interest;
  if (ev.events & kError) events |= kError | s.interest;
  if (events == 0) return;  // readiness for an interest dropped earlier in this turn
  s.cb(fd, events, s.data);
}

void Reactor::on_wake(int fd, uint32_t, void*) noexcept {
  uint64_t n;
  while (::read(fd, &n, sizeof n) > 0) {
  }
}

void Reactor::wake() noexcept {
  uint64_t one = 1;
  ssize_t w = ::write(wake_fd_, &one, sizeof one);
  (void)w;  // EAGAIN: the counter is saturated, so a wake-up is already pending
}

// ---- the turn -----------------------------------------------------------------------

int Reactor::poll_timeout(int max_wait_ms) const noexcept {
  if (stop_ || skip_wait_) return 0;
  if (heap_.empty()) return max_wait_ms;
  int64_t left = heap_[0]->deadline_ms_ - monotonic_ms();
  if (left < 0) left = 0;
  if (left > INT_MAX) left = INT_MAX;
  if (max_wait_ms >= 0 && left > max_wait_ms) left = max_wait_ms;
  return int(left);
}

void Reactor::run_once(int max_wait_ms) noexcept {
  int n = backend_.poll(poll_timeout(max_wait_ms), events_.data(), int(events_.size()));
  skip_wait_ = false;
  now_ms_ = monotonic_ms();
  for (int i = 0; i < n; ++i) dispatch(events_[i]);
  now_ms_ = monotonic_ms();
  run_timers();
  run_hooks();
}

void Reactor::run() noexcept {
  while (!stop_) run_once(-1);
  stop_ = false;
}

void Reactor::run_hooks() noexcept {
  for (size_t i = 0; i < hooks_.size(); ++i) {  // size re-read: a hook may add hooks
    Hook h = hooks_[i];                         // a copy: push_back may move the vector
    h.cb(h.data);
  }
}

void Reactor::add_before_sleep(HookCallback cb, void* data) {
  RELAY_ASSERT(cb != nullptr);
  hooks_.push_back(Hook{cb, data});
}

// ---- timers -------------------------------------------------------------------------

// Fires every timer that is due and was armed before this phase began. Timers armed by
// these callbacks get a larger seq_ (and a deadline >= now_ms_), so they sort after
// every older due timer and wait for the next turn: a callback re-arming itself with
// delay 0 cannot starve the loop. A repeating timer is re-armed before its callback,
// so the callback may cancel it or destroy it.
void Reactor::run_timers() noexcept {
  const uint64_t limit = next_seq_;
  while (!heap_.empty()) {
    Timer* t = heap_[0];
    if (t->deadline_ms_ > now_ms_ || t->seq_ >= limit) break;
    heap_remove(0);
    if (t->period_ms_ > 0) {
      int64_t next = t->deadline_ms_ + t->period_ms_;
      if (next <= now_ms_) next = now_ms_ + t->period_ms_;  // skip missed periods
      timer_arm(t, next, t->period_ms_);
    }
    t->cb_(t->data_);
  }
}

void Timer::arm_every(int64_t period_ms) noexcept {
  RELAY_ASSERT(period_ms >= 1);
  reactor_->timer_arm(this, reactor_->now_ms() + period_ms, period_ms);
}

void Reactor::timer_arm(Timer* t, int64_t deadline_ms, int64_t period_ms) noexcept {
  RELAY_ASSERT(t->reactor_ == this);
  if (t->is_armed()) heap_remove(t->heap_index_);
  t->deadline_ms_ = std::max(deadline_ms, now_ms_);
  t->period_ms_ = period_ms;
  t->seq_ = next_seq_++;
  RELAY_ASSERT(heap_.size() < Timer::kNotArmed);
  heap_.push_back(t);
  t->heap_index_ = uint32_t(heap_.size() - 1);
  heap_up(t->heap_index_);
}

void Reactor::timer_cancel(Timer* t) noexcept { heap_remove(t->heap_index_); }

void Reactor::heap_remove(uint32_t i) noexcept {
  Timer* gone = heap_[i];
  Timer* last = heap_.back();
  heap_.pop_back();
  gone->heap_index_ = Timer::kNotArmed;
  if (i == heap_.size()) return;  // it was the last one
  heap_set(i, last);
  heap_up(i);
  heap_down(last->heap_index_);
}

// a before b: earlier deadline, then earlier arming (FIFO among equal deadlines).
bool Reactor::timer_before(const Timer* a, const Timer* b) noexcept {
  return a->deadline_ms_ < b->deadline_ms_ ||
         (a->deadline_ms_ == b->deadline_ms_ && a->seq_ < b->seq_);
}

void Reactor::heap_up(uint32_t i) noexcept {
  Timer* t = heap_[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!timer_before(t, heap_[parent])) break;
    heap_set(i, heap_[parent]);
    i = parent;
  }
  heap_set(i, t);
}

void Reactor::heap_down(uint32_t i) noexcept {
  Timer* t = heap_[i];
  const uint32_t n = uint32_t(heap_.size());
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && timer_before(heap_[child + 1], heap_[child])) ++child;
    if (!timer_before(heap_[child], t)) break;
    heap_set(i, heap_[child]);
    i = child;
  }
  heap_set(i, t);
}

}  // namespace relay::net
