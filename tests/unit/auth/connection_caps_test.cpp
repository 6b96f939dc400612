// SPDX-License-Identifier: MIT
#include "auth/connection_caps.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

TEST(ConnectionCapsTest, LimitPerKey) {
  ConnectionCaps caps(2, 100);
  EXPECT_TRUE(caps.try_acquire("alice"));
  EXPECT_TRUE(caps.try_acquire("alice"));
  EXPECT_FALSE(caps.try_acquire("alice"));
  EXPECT_EQ(caps.count("alice"), 2u);
  EXPECT_TRUE(caps.try_acquire("bob"));
  caps.release("alice");
  EXPECT_TRUE(caps.try_acquire("alice"));
}

TEST(ConnectionCapsTest, EntriesGoAtZero) {
  ConnectionCaps caps(0, 100);  // no per-key limit
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(caps.try_acquire("10.0.0.1"));
  EXPECT_EQ(caps.keys(), 1u);
  for (int i = 0; i < 10; ++i) caps.release("10.0.0.1");
  EXPECT_EQ(caps.keys(), 0u);
  EXPECT_EQ(caps.count("10.0.0.1"), 0u);
  caps.release("10.0.0.1");  // an extra release is harmless
  EXPECT_EQ(caps.keys(), 0u);
}

TEST(ConnectionCapsTest, MapSizeIsBounded) {
  ConnectionCaps caps(5, 3);
  EXPECT_TRUE(caps.try_acquire("a"));
  EXPECT_TRUE(caps.try_acquire("b"));
  EXPECT_TRUE(caps.try_acquire("c"));
  EXPECT_FALSE(caps.try_acquire("d"));
  EXPECT_TRUE(caps.try_acquire("a"));  // known keys still count
  caps.release("b");
  EXPECT_TRUE(caps.try_acquire("d"));
  EXPECT_EQ(caps.keys(), 3u);
}

}  // namespace
}  // namespace relay::auth
