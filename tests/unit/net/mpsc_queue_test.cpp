// SPDX-License-Identifier: MIT
// lib/net/mpsc_queue.h and event_fd.h: bounded (a full ring refuses, nothing is dropped
// silently or overwritten), FIFO per producer with many producers, move-only items, and the
// eventfd wake-up coalesced but never lost.
#include "net/mpsc_queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "net/event_fd.h"

namespace relay::net {
namespace {

TEST(MpscQueue, CapacityIsAPowerOfTwoAndAFullRingRefuses) {
  MpscQueue<int> q(5);
  EXPECT_EQ(q.capacity(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(q.try_push(int(i)));
  int extra = 99;
  EXPECT_FALSE(q.try_push(std::move(extra)));
  for (int i = 0; i < 8; ++i) {
    auto v = q.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_FALSE(q.try_pop().has_value());
  EXPECT_TRUE(q.try_push(int(8)));  // room again after the pops, the ring wraps
  EXPECT_EQ(*q.try_pop(), 8);
}

TEST(MpscQueue, MoveOnlyItemsAndLeftoversFreed) {
  auto q = std::make_unique<MpscQueue<std::unique_ptr<int>>>(4);
  EXPECT_TRUE(q->try_push(std::make_unique<int>(1)));
  EXPECT_TRUE(q->try_push(std::make_unique<int>(2)));
  EXPECT_EQ(**q->try_pop(), 1);
  q.reset();  // the one left is destroyed with the queue (ASan would report a leak)
}

// Four producers push 20,000 numbered items each through a ring of 64 while one consumer
// pops: every item arrives once, each producer's in its order; full pushes are retried.
TEST(MpscQueue, ManyProducersKeepTheirOrderAndLoseNothing) {
  constexpr int kProducers = 4;
  constexpr uint32_t kEach = 20000;
  MpscQueue<uint64_t> q(64);
  std::atomic<uint64_t> refused{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&q, &refused, p] {
      for (uint32_t i = 0; i < kEach; ++i) {
        const uint64_t item = (uint64_t(p) << 32) | i;
        for (;;) {
          uint64_t v = item;
          if (q.try_push(std::move(v))) break;
          refused.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<uint32_t> next(kProducers, 0);
  uint64_t received = 0;
  while (received < uint64_t(kProducers) * kEach) {
    auto v = q.try_pop();
    if (!v) {
      std::this_thread::yield();
      continue;
    }
    const auto p = uint32_t(*v >> 32);
    const auto i = uint32_t(*v);
    ASSERT_LT(p, uint32_t(kProducers));
    ASSERT_EQ(i, next[p]) << "producer " << p << " out of order";
    ++next[p];
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(q.try_pop().has_value());
  for (uint32_t n : next) EXPECT_EQ(n, kEach);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(EventFd, SignalsCoalesceUntilCleared) {
  auto ev = EventFd::create();
  ASSERT_TRUE(ev);
  EXPECT_FALSE(readable(ev->fd()));
  ev->signal();
  ev->signal();
  EXPECT_TRUE(readable(ev->fd()));
  ev->clear();
  EXPECT_FALSE(readable(ev->fd()));
  ev->signal();  // after clear(): wakes again
  EXPECT_TRUE(readable(ev->fd()));
}

// A consumer that sleeps in poll() only after clear() and an empty pop is woken for every
// item: none is left in the queue while it sleeps.
TEST(EventFd, NoWakeUpLostBetweenPushAndSleep) {
  auto ev = EventFd::create();
  ASSERT_TRUE(ev);
  MpscQueue<int> q(1024);
  constexpr int kItems = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      int v = i;
      while (!q.try_push(std::move(v))) std::this_thread::yield();
      ev->signal();
    }
  });
  int got = 0;
  while (got < kItems) {
    pollfd p{ev->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "asleep with " << got << " of " << kItems;
    ev->clear();
    while (auto v = q.try_pop()) {
      ASSERT_EQ(*v, got);
      ++got;
    }
  }
  producer.join();
}

}  // namespace
}  // namespace relay::net
