// SPDX-License-Identifier: MIT
#include "auth/token_bucket.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

// A fake clock: every time below is an explicit millisecond value.
constexpr int64_t kT0 = 1'000'000;

TEST(TokenBucketTest, BurstThenRate) {
  TokenBucket bucket(10, 5, kT0);  // 10/s = one per 100 ms, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.take(1, kT0), 0) << i;
  EXPECT_EQ(bucket.take(1, kT0), 100);  // empty: one token comes in 100 ms
  EXPECT_EQ(bucket.take(1, kT0 + 40), 60);
  EXPECT_EQ(bucket.take(1, kT0 + 100), 0);
  EXPECT_EQ(bucket.take(1, kT0 + 100), 100);
  EXPECT_EQ(bucket.take(3, kT0 + 100), 300);
}

TEST(TokenBucketTest, RefillStopsAtBurst) {
  TokenBucket bucket(10, 5, kT0);
  for (int i = 0; i < 5; ++i) bucket.take(1, kT0);
  int64_t later = kT0 + 3'600'000;  // an hour idle: still only 5
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.take(1, later), 0) << i;
  EXPECT_GT(bucket.take(1, later), 0);
}

TEST(TokenBucketTest, FractionalRatesAccumulate) {
  TokenBucket bucket(3, 1, kT0);  // one token per 333.3 ms
  EXPECT_EQ(bucket.take(1, kT0), 0);
  EXPECT_EQ(bucket.take(1, kT0), 334);  // ceil(1000 / 3)
  EXPECT_NE(bucket.take(1, kT0 + 333), 0);
  EXPECT_EQ(bucket.take(1, kT0 + 334), 0);
}

TEST(TokenBucketTest, OverBurstCostNeedsAFullBucketAndLeavesDebt) {
  TokenBucket bytes(1000, 100, kT0);           // 1000 B/s, burst 100 B
  EXPECT_EQ(bytes.take(500, kT0), 0);          // full bucket: allowed, 400 B in debt
  EXPECT_EQ(bytes.take(1, kT0), 401);          // the debt is paid off first
  EXPECT_EQ(bytes.take(500, kT0 + 400), 100);  // then a full bucket again
  EXPECT_EQ(bytes.take(500, kT0 + 500), 0);
}

TEST(TokenBucketTest, ZeroRateIsUnlimitedAndBackwardsClockIsHarmless) {
  TokenBucket off(0, 0, kT0);
  EXPECT_FALSE(off.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(off.take(1'000'000, kT0), 0);
  TokenBucket bucket(10, 1, kT0);
  EXPECT_EQ(bucket.take(1, kT0), 0);
  EXPECT_EQ(bucket.take(1, kT0 - 5000), 100);  // no refill from a clock going back
  EXPECT_EQ(bucket.take(1, kT0 + 100), 0);
}

TEST(TokenBucketTest, WaitForTakesNothing) {
  TokenBucket bucket(10, 1, kT0);
  EXPECT_EQ(bucket.wait_for(1, kT0), 0);
  EXPECT_EQ(bucket.wait_for(1, kT0), 0);
  EXPECT_EQ(bucket.take(1, kT0), 0);
  EXPECT_EQ(bucket.wait_for(1, kT0), 100);
}

TEST(TokenBucketTest, HugeValuesDoNotOverflow) {
  TokenBucket bucket(UINT32_MAX, UINT32_MAX, 1);
  EXPECT_EQ(bucket.take(UINT64_MAX, 1), 0);
  EXPECT_GT(bucket.take(1, 2), 0);
  EXPECT_EQ(bucket.take(1, INT64_MAX / 2), 0);
}

TEST(RateLimiterTest, MessagesAndBytesBothApply) {
  RateLimiter limits(2, 2, 100, 100, kT0);  // 2 msg/s, 100 B/s
  EXPECT_EQ(limits.check(60, kT0), 0);
  EXPECT_EQ(limits.check(60, kT0), 200);  // bytes refuse (20 B missing at 100 B/s)...
  EXPECT_EQ(limits.check(10, kT0), 0);    // ...and charged nothing: a message is left
  EXPECT_EQ(limits.check(1, kT0), 500);   // now messages refuse
  EXPECT_EQ(limits.check(1, kT0 + 500), 0);
}

}  // namespace
}  // namespace relay::auth
