// SPDX-License-Identifier: MIT
// Reactor over socketpairs and eventfds: readiness callbacks, interest changes,
// stale reports after fd reuse, timers (order, cancel, repeat, re-arm), before-sleep
// hooks, stop() and wake(). Every wait is bounded by a turn count or a deadline.
#include "net/reactor.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace relay::net {
namespace {

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0); }
  ~Pair() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  void close_end(int i) {
    close(fd[i]);
    fd[i] = -1;
  }
};

std::unique_ptr<Reactor> make_reactor() {
  auto r = Reactor::create();
  EXPECT_TRUE(r.has_value());
  return std::move(*r);
}

// Turns until pred() or max_ms passed; returns pred().
template <typename Pred>
bool run_until(Reactor& r, Pred pred, int64_t max_ms = 2000) {
  int64_t end = monotonic_ms() + max_ms;
  while (!pred() && monotonic_ms() < end) r.run_once(10);
  return pred();
}

struct IoLog {
  int calls = 0;
  int last_fd = -1;
  uint32_t last_events = 0;
  static void on_io(int fd, uint32_t events, void* data) noexcept {
    auto* self = static_cast<IoLog*>(data);
    ++self->calls;
    self->last_fd = fd;
    self->last_events = events;
  }
};

TEST(Reactor, ReadableCallbackGetsFdEventsAndData) {
  auto r = make_reactor();
  Pair p;
  IoLog log;
  ASSERT_TRUE(r->add(p.fd[0], kReadable, &IoLog::on_io, &log));
  EXPECT_TRUE(r->is_registered(p.fd[0]));
  r->run_once(0);
  EXPECT_EQ(log.calls, 0);  // nothing to read yet

  ASSERT_EQ(write(p.fd[1], "x", 1), 1);
  ASSERT_TRUE(run_until(*r, [&] { return log.calls > 0; }));
  EXPECT_EQ(log.last_fd, p.fd[0]);
  EXPECT_EQ(log.last_events, kReadable);

  // Level-triggered: still readable until read.
  r->run_once(0);
  EXPECT_EQ(log.calls, 2);
  char c;
  ASSERT_EQ(read(p.fd[0], &c, 1), 1);
  r->run_once(0);
  EXPECT_EQ(log.calls, 2);
  r->remove(p.fd[0]);
}

TEST(Reactor, WritableInterestCanBeArmedAndDropped) {
  auto r = make_reactor();
  Pair p;
  IoLog log;
  ASSERT_TRUE(r->add(p.fd[0], 0, &IoLog::on_io, &log));
  r->run_once(0);
  EXPECT_EQ(log.calls, 0);
  ASSERT_TRUE(r->modify(p.fd[0], kWritable));
  EXPECT_EQ(r->interest(p.fd[0]), kWritable);
  ASSERT_TRUE(run_until(*r, [&] { return log.calls > 0; }));
  EXPECT_EQ(log.last_events, kWritable);
  ASSERT_TRUE(r->modify(p.fd[0], 0));
  int before = log.calls;
  r->run_once(0);
  EXPECT_EQ(log.calls, before);
  r->remove(p.fd[0]);
}

TEST(Reactor, AddTwiceFailsAndRemoveUnknownIsNoop) {
  auto r = make_reactor();
  Pair p;
  IoLog log;
  size_t base = r->registered_fds();  // the wake eventfd
  ASSERT_TRUE(r->add(p.fd[0], kReadable, &IoLog::on_io, &log));
  auto again = r->add(p.fd[0], kReadable, &IoLog::on_io, &log);
  ASSERT_FALSE(again);
  EXPECT_EQ(to_errno(again.error()), EEXIST);
  EXPECT_EQ(r->registered_fds(), base + 1);
  r->remove(p.fd[1]);  // never registered
  r->remove(p.fd[0]);
  r->remove(p.fd[0]);
  EXPECT_EQ(r->registered_fds(), base);
  EXPECT_FALSE(r->is_registered(p.fd[0]));
  EXPECT_EQ(r->interest(p.fd[0]), 0u);
}

TEST(Reactor, HangupIsReportedAsErrorEvenWithoutInterest) {
  auto r = make_reactor();
  Pair p;
  IoLog log;
  ASSERT_TRUE(r->add(p.fd[0], 0, &IoLog::on_io, &log));
  p.close_end(1);
  ASSERT_TRUE(run_until(*r, [&] { return log.calls > 0; }));
  EXPECT_EQ(log.last_events, kError);
  r->remove(p.fd[0]);
}

TEST(Reactor, HangupComesWithTheInterestBits) {
  auto r = make_reactor();
  Pair p;
  IoLog log;
  ASSERT_TRUE(r->add(p.fd[0], kReadable, &IoLog::on_io, &log));
  p.close_end(1);
  ASSERT_TRUE(run_until(*r, [&] { return log.calls > 0; }));
  EXPECT_EQ(log.last_events, kReadable | kError);
  char c;
  EXPECT_EQ(read(p.fd[0], &c, 1), 0);  // the read meets the hangup
  r->remove(p.fd[0]);
}

// Two fds are ready in one batch. Whichever callback runs first removes and closes the
// other fd and registers a fresh eventfd, which the kernel gives the same number. The
// report still queued for the old fd must be dropped, not handed to the new owner.
struct StaleCase {
  Reactor* r;
  int fds[2];
  int first = -1;
  int reused_fd = -1;
  int old_calls = 0;
  int new_calls = 0;
  static void on_old(int fd, uint32_t, void* data) noexcept {
    auto* c = static_cast<StaleCase*>(data);
    ++c->old_calls;
    if (c->first >= 0) return;
    c->first = fd;
    int other = fd == c->fds[0] ? c->fds[1] : c->fds[0];
    c->r->remove(other);
    close(other);
    c->reused_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);  // lowest free number
    if (c->reused_fd != other) return;                      // the test checks this
    (void)c->r->add(c->reused_fd, kReadable | kWritable, &StaleCase::on_new, c);
  }
  static void on_new(int, uint32_t, void* data) noexcept {
    ++static_cast<StaleCase*>(data)->new_calls;
  }
};

TEST(Reactor, StaleEventForReusedFdIsDropped) {
  auto r = make_reactor();
  Pair a, b;
  StaleCase c{r.get(), {a.fd[0], b.fd[0]}};
  ASSERT_TRUE(r->add(a.fd[0], kReadable, &StaleCase::on_old, &c));
  ASSERT_TRUE(r->add(b.fd[0], kReadable, &StaleCase::on_old, &c));
  ASSERT_EQ(write(a.fd[1], "x", 1), 1);
  ASSERT_EQ(write(b.fd[1], "x", 1), 1);
  uint64_t stale_before = r->stale_events_dropped();
  r->run_once(1000);  // both are ready: one batch holds both reports

  ASSERT_GE(c.first, 0);
  int other = c.first == a.fd[0] ? b.fd[0] : a.fd[0];
  ASSERT_EQ(c.reused_fd, other) << "the kernel did not reuse the fd number";
  EXPECT_EQ(c.old_calls, 1);
  EXPECT_EQ(c.new_calls, 0);  // the old fd's report did not reach the new owner
  EXPECT_EQ(r->stale_events_dropped(), stale_before + 1);

  // The new registration works normally from the next turn (an eventfd is writable).
  ASSERT_TRUE(run_until(*r, [&] { return c.new_calls > 0; }));
  r->remove(c.reused_fd);
  r->remove(c.first);
  // Pair's destructor closes the reused number; forget it so it is closed once.
  close(c.reused_fd);
  (c.first == a.fd[0] ? b : a).fd[0] = -1;
}

// The first callback drops the second fd's interest; its queued report is not delivered.
struct DropCase {
  Reactor* r;
  int fds[2];
  int calls = 0;
  static void on_io(int fd, uint32_t, void* data) noexcept {
    auto* c = static_cast<DropCase*>(data);
    ++c->calls;
    int other = fd == c->fds[0] ? c->fds[1] : c->fds[0];
    (void)c->r->modify(other, 0);
    (void)c->r->modify(fd, 0);
  }
};

TEST(Reactor, InterestDroppedEarlierInTheTurnSuppressesReport) {
  auto r = make_reactor();
  Pair a, b;
  DropCase c{r.get(), {a.fd[0], b.fd[0]}};
  ASSERT_TRUE(r->add(a.fd[0], kReadable, &DropCase::on_io, &c));
  ASSERT_TRUE(r->add(b.fd[0], kReadable, &DropCase::on_io, &c));
  ASSERT_EQ(write(a.fd[1], "x", 1), 1);
  ASSERT_EQ(write(b.fd[1], "x", 1), 1);
  r->run_once(1000);
  EXPECT_EQ(c.calls, 1);
  r->remove(a.fd[0]);
  r->remove(b.fd[0]);
}

// ---- timers -------------------------------------------------------------------------

struct Fired {
  std::vector<int>* order;
  int id;
  Reactor* r = nullptr;
  int64_t deadline = 0;
  bool early = false;
  static void on_timer(void* data) noexcept {
    auto* f = static_cast<Fired*>(data);
    f->order->push_back(f->id);
    if (f->r && f->r->now_ms() < f->deadline) f->early = true;
  }
};

TEST(ReactorTimer, FireInDeadlineOrderNeverEarly) {
  auto r = make_reactor();
  std::vector<int> order;
  int64_t now = r->now_ms();
  Fired f30{&order, 30, r.get(), now + 30}, f10{&order, 10, r.get(), now + 10},
      f20{&order, 20, r.get(), now + 20};
  Timer t30(*r, &Fired::on_timer, &f30), t10(*r, &Fired::on_timer, &f10),
      t20(*r, &Fired::on_timer, &f20);
  t30.arm_at(now + 30);
  t10.arm_at(now + 10);
  t20.arm_at(now + 20);
  EXPECT_EQ(r->armed_timers(), 3u);
  EXPECT_TRUE(t10.is_armed());
  EXPECT_EQ(t10.deadline_ms(), now + 10);
  // run_once(-1) with no ready fd must still return: the poll timeout is the nearest timer.
  for (int i = 0; i < 100 && order.size() < 3; ++i) r->run_once(-1);
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
  EXPECT_FALSE(f10.early || f20.early || f30.early);
  EXPECT_FALSE(t10.is_armed());
  EXPECT_EQ(r->armed_timers(), 0u);
}

TEST(ReactorTimer, EqualDeadlinesFireInArmingOrder) {
  auto r = make_reactor();
  std::vector<int> order;
  std::vector<Fired> f;
  for (int i = 0; i < 8; ++i) f.push_back(Fired{&order, i});
  std::vector<std::unique_ptr<Timer>> t;
  int64_t when = r->now_ms() + 5;
  for (int i = 0; i < 8; ++i) {
    t.push_back(std::make_unique<Timer>(*r, &Fired::on_timer, &f[i]));
    t.back()->arm_at(when);
  }
  ASSERT_TRUE(run_until(*r, [&] { return order.size() == 8; }));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(ReactorTimer, CancelAndRearm) {
  auto r = make_reactor();
  std::vector<int> order;
  Fired fa{&order, 1}, fb{&order, 2}, fc{&order, 3};
  Timer a(*r, &Fired::on_timer, &fa), b(*r, &Fired::on_timer, &fb), c(*r, &Fired::on_timer, &fc);
  a.arm_after(5);
  b.arm_after(5);
  c.arm_after(50);
  b.cancel();
  b.cancel();  // twice is fine
  EXPECT_FALSE(b.is_armed());
  c.arm_after(1);  // moves c ahead of a
  ASSERT_TRUE(run_until(*r, [&] { return order.size() == 2; }));
  r->run_once(20);
  EXPECT_EQ(order, (std::vector<int>{3, 1}));
}

// Cancelling a due timer from the callback of another due timer keeps it from firing.
struct Canceller {
  Timer* victim = nullptr;
  int calls = 0;
  static void on_timer(void* data) noexcept {
    auto* c = static_cast<Canceller*>(data);
    ++c->calls;
    if (c->victim) c->victim->cancel();
  }
};

TEST(ReactorTimer, CancelFromAnotherCallbackInSameTurn) {
  auto r = make_reactor();
  Canceller first, second;
  Timer t1(*r, &Canceller::on_timer, &first), t2(*r, &Canceller::on_timer, &second);
  first.victim = &t2;
  int64_t when = r->now_ms() + 2;
  t1.arm_at(when);
  t2.arm_at(when);
  ASSERT_TRUE(run_until(*r, [&] { return first.calls > 0; }));
  r->run_once(10);
  EXPECT_EQ(second.calls, 0);
}

struct Repeater {
  Timer* self = nullptr;
  int calls = 0;
  int stop_at = 0;
  static void on_timer(void* data) noexcept {
    auto* rp = static_cast<Repeater*>(data);
    if (++rp->calls == rp->stop_at) rp->self->cancel();
  }
};

TEST(ReactorTimer, RepeatingUntilCancelledInItsCallback) {
  auto r = make_reactor();
  Repeater rp;
  Timer t(*r, &Repeater::on_timer, &rp);
  rp.self = &t;
  rp.stop_at = 5;
  t.arm_every(1);
  int turns = 0;
  while (t.is_armed() && turns++ < 10000) r->run_once(10);
  EXPECT_EQ(rp.calls, 5);
  r->run_once(5);
  EXPECT_EQ(rp.calls, 5);
  EXPECT_EQ(r->armed_timers(), 0u);
}

struct ZeroRearm {
  Timer* self = nullptr;
  int calls = 0;
  static void on_timer(void* data) noexcept {
    auto* z = static_cast<ZeroRearm*>(data);
    ++z->calls;
    z->self->arm_after(0);
  }
};

TEST(ReactorTimer, RearmWithZeroDelayFiresOncePerTurn) {
  auto r = make_reactor();
  ZeroRearm z;
  Timer t(*r, &ZeroRearm::on_timer, &z);
  z.self = &t;
  t.arm_after(0);
  r->run_once(0);
  EXPECT_EQ(z.calls, 1);
  r->run_once(0);
  EXPECT_EQ(z.calls, 2);
  t.cancel();
}

struct SelfDestruct {
  Timer* t = nullptr;
  bool fired = false;
  static void on_timer(void* data) noexcept {
    auto* s = static_cast<SelfDestruct*>(data);
    s->fired = true;
    delete s->t;  // ASan would catch a use after this
    s->t = nullptr;
  }
};

TEST(ReactorTimer, CallbackMayDestroyItsRepeatingTimer) {
  auto r = make_reactor();
  SelfDestruct s;
  s.t = new Timer(*r, &SelfDestruct::on_timer, &s);
  s.t->arm_every(1);
  ASSERT_TRUE(run_until(*r, [&] { return s.fired; }));
  EXPECT_EQ(r->armed_timers(), 0u);
}

TEST(ReactorTimer, ManyTimersWithCancelsFireSortedAndOnlyOnce) {
  auto r = make_reactor();
  std::mt19937 rng(42);
  constexpr int kN = 2000;
  std::vector<int> order;
  std::vector<Fired> f;
  f.reserve(kN);
  std::vector<std::unique_ptr<Timer>> t;
  std::vector<int64_t> deadline(kN);
  int64_t now = r->now_ms();
  for (int i = 0; i < kN; ++i) {
    f.push_back(Fired{&order, i});
    t.push_back(std::make_unique<Timer>(*r, &Fired::on_timer, &f[i]));
    deadline[i] = now + int64_t(rng() % 40);
    t[i]->arm_at(deadline[i]);
  }
  std::vector<bool> cancelled(kN);
  for (int i = 0; i < kN; i += 3) {
    t[i]->cancel();
    cancelled[i] = true;
  }
  size_t expected = size_t(kN - (kN + 2) / 3);
  ASSERT_TRUE(run_until(*r, [&] { return order.size() >= expected; }));
  r->run_once(5);
  ASSERT_EQ(order.size(), expected);
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_FALSE(cancelled[order[i]]);
    if (i > 0) {
      // Sorted by deadline, FIFO (= index order here) among equal deadlines.
      int a = order[i - 1], b = order[i];
      EXPECT_TRUE(deadline[a] < deadline[b] || (deadline[a] == deadline[b] && a < b));
    }
  }
}

TEST(ReactorTimer, ReactorDestroyedFirstDisarmsTimers) {
  auto r = make_reactor();
  std::vector<int> order;
  Fired f{&order, 1};
  auto t = std::make_unique<Timer>(*r, &Fired::on_timer, &f);
  t->arm_after(1000);
  r.reset();
  EXPECT_FALSE(t->is_armed());
  t.reset();  // must not touch the dead reactor
}

// ---- turn order, hooks, stop, wake --------------------------------------------------

struct TurnLog {
  Reactor* r;
  std::vector<std::string> log{};
  static void on_io(int fd, uint32_t, void* data) noexcept {
    char c;
    while (read(fd, &c, 1) == 1) {
    }
    static_cast<TurnLog*>(data)->log.push_back("io");
  }
  static void on_timer(void* data) noexcept { static_cast<TurnLog*>(data)->log.push_back("timer"); }
  static void hook_a(void* data) noexcept { static_cast<TurnLog*>(data)->log.push_back("a"); }
  static void hook_b_fn(void* data) noexcept { static_cast<TurnLog*>(data)->log.push_back("b"); }
};

TEST(ReactorTurn, IoThenTimersThenBeforeSleepHooksInOrder) {
  auto r = make_reactor();
  Pair p;
  TurnLog tl{r.get()};
  ASSERT_TRUE(r->add(p.fd[0], kReadable, &TurnLog::on_io, &tl));
  Timer t(*r, &TurnLog::on_timer, &tl);
  t.arm_after(0);
  r->add_before_sleep(&TurnLog::hook_a, &tl);
  r->add_before_sleep(&TurnLog::hook_b_fn, &tl);
  ASSERT_EQ(write(p.fd[1], "x", 1), 1);
  r->run_once(1000);
  EXPECT_EQ(tl.log, (std::vector<std::string>{"io", "timer", "a", "b"}));
  tl.log.clear();
  r->run_once(0);  // an idle turn still runs the hooks
  EXPECT_EQ(tl.log, (std::vector<std::string>{"a", "b"}));
  r->remove(p.fd[0]);
}

struct Stopper {
  Reactor* r;
  int hooks = 0;
  static void on_timer(void* data) noexcept { static_cast<Stopper*>(data)->r->stop(); }
  static void hook(void* data) noexcept { ++static_cast<Stopper*>(data)->hooks; }
};

TEST(ReactorTurn, StopEndsRunAfterTheTurnsHooks) {
  auto r = make_reactor();
  Stopper s{r.get()};
  Timer t(*r, &Stopper::on_timer, &s);
  Timer guard(*r, &Stopper::on_timer, &s);  // bounds the test if stop() were ignored
  t.arm_after(5);
  guard.arm_after(5000);
  r->add_before_sleep(&Stopper::hook, &s);
  r->run();
  EXPECT_GE(s.hooks, 1);
  EXPECT_TRUE(guard.is_armed());  // returned because of t, long before the guard
  // stop() before run(): run returns at once.
  int hooks = s.hooks;
  r->stop();
  r->run();
  EXPECT_EQ(s.hooks, hooks);
}

TEST(ReactorTurn, WakeFromAnotherThreadUnblocksPoll) {
  auto r = make_reactor();
  Stopper s{r.get()};
  Timer guard(*r, &Stopper::on_timer, &s);
  guard.arm_after(10000);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r->wake();
  });
  r->run_once(-1);  // only the wake (or the 10 s guard) ends this poll
  waker.join();
  EXPECT_TRUE(guard.is_armed());
}

struct SkipOnce {
  Reactor* r;
  int hooks = 0;
  static void hook(void* data) noexcept {
    auto* self = static_cast<SkipOnce*>(data);
    if (++self->hooks == 1) self->r->skip_next_wait();  // work left for the next turn
  }
};

TEST(ReactorTurn, SkipNextWaitMakesOnlyTheNextPollReturnAtOnce) {
  auto r = make_reactor();
  SkipOnce s{r.get()};
  r->add_before_sleep(&SkipOnce::hook, &s);
  r->run_once(0);  // the hook asks for a turn without waiting
  int64_t start = monotonic_ms();
  r->run_once(5000);  // would block 5 s without skip_next_wait()
  EXPECT_LT(monotonic_ms() - start, 1000);
  EXPECT_EQ(s.hooks, 2);
  start = monotonic_ms();
  r->run_once(50);  // cleared by the poll: this one waits again
  EXPECT_GE(monotonic_ms() - start, 40);
}

}  // namespace
}  // namespace relay::net
