// SPDX-License-Identifier: MIT
// QueueBudget: the machine's default (a quarter of the cgroup limit, else of MemTotal) and
// the running total moved by each client's share.
#include "queue_budget.h"

#include <gtest/gtest.h>

#include <vector>

namespace relay::daemon {
namespace {

constexpr const char* kMeminfo = "MemTotal:        8000000 kB\nMemFree:         1000 kB\n";

TEST(QueueBudget, DefaultIsAQuarterOfTheCgroupLimit) {
  EXPECT_EQ(queue_budget_default("1073741824\n", kMeminfo), 1073741824u / 4);
}

TEST(QueueBudget, DefaultFallsBackToMemTotal) {
  EXPECT_EQ(queue_budget_default("max\n", kMeminfo), 8000000ull * 1024 / 4);
  EXPECT_EQ(queue_budget_default("", kMeminfo), 8000000ull * 1024 / 4);
  // A cgroup limit above the machine's memory is no limit.
  EXPECT_EQ(queue_budget_default("99999999999999\n", kMeminfo), 8000000ull * 1024 / 4);
}

TEST(QueueBudget, DefaultIsNeverZero) { EXPECT_GT(queue_budget_default("", ""), 0u); }

TEST(QueueBudget, MachineDefaultIsRead) {
  QueueBudget b;
  EXPECT_GT(b.machine_default(), 0u);
  EXPECT_EQ(b.limit(0), b.machine_default());
  EXPECT_EQ(b.limit(5000), 5000u);
}

TEST(QueueBudget, SharesMoveTheTotalBothWays) {
  QueueBudget b;
  const uint64_t frames = FrameRef::live_bytes();
  uint64_t a = 0;
  uint64_t c = 0;
  b.update(a, 3000);
  b.update(c, 2500);
  EXPECT_EQ(b.total() - frames, 5500u);
  EXPECT_TRUE(b.over(frames + 5000));
  b.update(a, 1000);  // a's queue shrank
  EXPECT_EQ(b.total() - frames, 3500u);
  EXPECT_FALSE(b.over(frames + 5000));
  b.update(c, 0);  // closed
  b.update(a, 0);
  EXPECT_EQ(b.total(), frames);
  EXPECT_EQ(a, 0u);
}

TEST(QueueBudget, FramesCountOnceHoweverManyHoldThem) {
  QueueBudget b;
  const uint64_t before = b.total();
  {
    FrameRef f = FrameRef::allocate(10000);
    std::vector<FrameRef> holders(100, f);  // a fan-out to 100 queues
    EXPECT_EQ(b.total() - before, f.footprint());
  }
  EXPECT_EQ(b.total(), before);
}

}  // namespace
}  // namespace relay::daemon
