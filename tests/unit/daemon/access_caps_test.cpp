// SPDX-License-Identifier: MIT
// daemon/access_caps: connections per client IP and per user. A slot counts while it lives
// and gives its count back when destroyed (with the connection), moved or reset.
#include "access_caps.h"

#include <gtest/gtest.h>

#include <memory>

#include "access.h"

namespace relay::daemon {
namespace {

TEST(AccessCaps, PerIpLimitCountsLiveConnections) {
  AccessCaps caps;
  AccessSlots a, b, c;
  EXPECT_TRUE(caps.acquire_ip("192.0.2.1", 2, &a));
  EXPECT_TRUE(caps.acquire_ip("192.0.2.1", 2, &b));
  EXPECT_FALSE(caps.acquire_ip("192.0.2.1", 2, &c));
  EXPECT_FALSE(c.ip.held());
  EXPECT_TRUE(caps.acquire_ip("192.0.2.2", 2, &c));  // another address has its own count
  EXPECT_EQ(caps.ip_count("192.0.2.1"), 2u);
  a.ip.reset();
  EXPECT_EQ(caps.ip_count("192.0.2.1"), 1u);
  AccessSlots d;
  EXPECT_TRUE(caps.acquire_ip("192.0.2.1", 2, &d));
}

TEST(AccessCaps, ASlotGivesItsCountBackWhenDestroyedOrMoved) {
  AccessCaps caps;
  {
    auto slots = std::make_unique<AccessSlots>();
    ASSERT_TRUE(caps.acquire_user("alice", 1, slots.get()));
    EXPECT_EQ(caps.user_count("alice"), 1u);
    AccessSlots other;
    EXPECT_FALSE(caps.acquire_user("alice", 1, &other));
    AccessSlots moved = std::move(*slots);
    slots.reset();  // the moved-from slot releases nothing
    EXPECT_EQ(caps.user_count("alice"), 1u);
  }
  EXPECT_EQ(caps.user_count("alice"), 0u);
}

TEST(AccessCaps, LimitZeroCountsNothingAndALowerLimitAppliesToNewConnections) {
  AccessCaps caps;
  AccessSlots a, b, c;
  EXPECT_TRUE(caps.acquire_ip("198.51.100.7", 0, &a));
  EXPECT_FALSE(a.ip.held());
  EXPECT_EQ(caps.ip_count("198.51.100.7"), 0u);
  EXPECT_TRUE(caps.acquire_ip("198.51.100.7", 5, &a));
  EXPECT_TRUE(caps.acquire_ip("198.51.100.7", 5, &b));
  EXPECT_FALSE(caps.acquire_ip("198.51.100.7", 1, &c));  // a reload lowered it to 1
}

TEST(AccessCaps, ReacquiringAUserReleasesTheOldSlot) {
  AccessCaps caps;
  AccessSlots s;
  ASSERT_TRUE(caps.acquire_user("alice", 1, &s));
  ASSERT_TRUE(caps.acquire_user("bob", 1, &s));  // the connection's identity changed
  EXPECT_EQ(caps.user_count("alice"), 0u);
  EXPECT_EQ(caps.user_count("bob"), 1u);
}

TEST(Access, PerUserHookAllocatesTheConnectionStateOnlyWhenLimited) {
  Access access;
  std::unique_ptr<ConnectionAccess> conn;
  EXPECT_TRUE(access.acquire_user(conn, "alice", 0));
  EXPECT_EQ(conn, nullptr);
  EXPECT_TRUE(access.acquire_user(conn, "alice", 1));
  ASSERT_NE(conn, nullptr);
  std::unique_ptr<ConnectionAccess> second;
  EXPECT_FALSE(access.acquire_user(second, "alice", 1));
  conn.reset();  // the first connection is freed
  EXPECT_TRUE(access.acquire_user(second, "alice", 1));
}

}  // namespace
}  // namespace relay::daemon
