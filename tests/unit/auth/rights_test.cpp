// SPDX-License-Identifier: MIT
#include "auth/rights.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

TEST(RightsTest, PatternSyntaxIsTheConfigsMatch) {
  EXPECT_TRUE(pattern_matches("chat.lobby", "chat.lobby"));
  EXPECT_FALSE(pattern_matches("chat.lobby", "chat.lobby2"));
  EXPECT_FALSE(pattern_matches("chat.lobby", "chat"));
  EXPECT_TRUE(pattern_matches("chat.*", "chat.lobby"));
  EXPECT_TRUE(pattern_matches("chat.*", "chat.a.b"));
  EXPECT_TRUE(pattern_matches("chat.*", "chat."));
  EXPECT_FALSE(pattern_matches("chat.*", "chat"));
  EXPECT_FALSE(pattern_matches("chat.*", "chatroom"));
  EXPECT_TRUE(pattern_matches("*", "anything"));
  EXPECT_TRUE(pattern_matches("*", ""));
  EXPECT_TRUE(is_valid_pattern("chat.*"));
  EXPECT_TRUE(is_valid_pattern("*"));
  EXPECT_FALSE(is_valid_pattern(""));
  EXPECT_FALSE(is_valid_pattern("chat.*.x"));
  EXPECT_FALSE(is_valid_pattern("**"));
}

TEST(RightsTest, ModeNoneAllowsEverything) {
  ChannelAccess claims{ChannelPolicy::kClaims, ChannelPolicy::kClaims};
  EXPECT_EQ(may_connect(AuthMode::kNone, nullptr), Access::kAllowed);
  EXPECT_EQ(may_subscribe(AuthMode::kNone, nullptr, "x", claims), Access::kAllowed);
  EXPECT_EQ(may_publish(AuthMode::kNone, nullptr, "x", claims), Access::kAllowed);
}

TEST(RightsTest, ConnectNeedsATokenOnlyWhenRequired) {
  Identity who;
  EXPECT_EQ(may_connect(AuthMode::kOptional, nullptr), Access::kAllowed);
  EXPECT_EQ(may_connect(AuthMode::kRequired, nullptr), Access::kUnauthenticated);
  EXPECT_EQ(may_connect(AuthMode::kRequired, &who), Access::kAllowed);
}

TEST(RightsTest, ChannelPolicies) {
  Identity alice{.sub = "alice", .rights = {.subscribe = {"chat.*"}, .publish = {"chat.lobby"}}};
  Identity nobody{.sub = "bob"};
  ChannelAccess anyone{};
  ChannelAccess authenticated{ChannelPolicy::kAuthenticated, ChannelPolicy::kAuthenticated};
  ChannelAccess claims{ChannelPolicy::kClaims, ChannelPolicy::kClaims};
  auto mode = AuthMode::kOptional;

  EXPECT_EQ(may_subscribe(mode, nullptr, "chat.x", anyone), Access::kAllowed);
  EXPECT_EQ(may_publish(mode, nullptr, "chat.x", anyone), Access::kAllowed);

  EXPECT_EQ(may_subscribe(mode, nullptr, "chat.x", authenticated), Access::kUnauthenticated);
  EXPECT_EQ(may_subscribe(mode, &nobody, "chat.x", authenticated), Access::kAllowed);
  EXPECT_EQ(may_publish(mode, &nobody, "chat.x", authenticated), Access::kAllowed);

  EXPECT_EQ(may_subscribe(mode, nullptr, "chat.x", claims), Access::kUnauthenticated);
  EXPECT_EQ(may_subscribe(mode, &nobody, "chat.x", claims), Access::kForbidden);
  EXPECT_EQ(may_subscribe(mode, &alice, "chat.x", claims), Access::kAllowed);
  EXPECT_EQ(may_subscribe(mode, &alice, "news", claims), Access::kForbidden);
  EXPECT_EQ(may_publish(mode, &alice, "chat.lobby", claims), Access::kAllowed);
  EXPECT_EQ(may_publish(mode, &alice, "chat.x", claims), Access::kForbidden);

  // Subscribe and publish policies are separate: read for anyone, write by claims.
  ChannelAccess mixed{ChannelPolicy::kAnyone, ChannelPolicy::kClaims};
  EXPECT_EQ(may_subscribe(mode, nullptr, "news", mixed), Access::kAllowed);
  EXPECT_EQ(may_publish(mode, nullptr, "news", mixed), Access::kUnauthenticated);
  EXPECT_EQ(may_publish(mode, &alice, "news", mixed), Access::kForbidden);
}

}  // namespace
}  // namespace relay::auth
