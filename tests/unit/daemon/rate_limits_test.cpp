// SPDX-License-Identifier: MIT
// daemon/rate_limits and access: which bucket a publish is charged to (the top-level
// rate_limit or its channel entry's), per connection and per HTTP client IP; the metrics
// listener's token and allowlist; API keys and secrets from files.
#include "rate_limits.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "access.h"

namespace relay::daemon {
namespace {

Config config_with_limits() {
  Config c;
  c.rate_limit = RateLimitConfig{2, 0, 0, 0};  // 2 messages/s, burst 2
  ChannelOptions fast;
  fast.match = "fast.*";
  fast.rate_limit = RateLimitConfig{100, 0, 0, 0};
  ChannelOptions plain;
  plain.match = "plain";
  c.channels = {fast, plain};
  return c;
}

TEST(RateLimitPlan, ChannelEntriesWithTheirOwnLimitGetTheirOwnSlot) {
  Config c = config_with_limits();
  RateLimitPlan plan;
  plan.configure(c);
  EXPECT_TRUE(plan.any());
  EXPECT_EQ(plan.slots(), 2u);
  EXPECT_EQ(plan.slot_for(c, c.options_for("fast.x")), 1u);
  EXPECT_EQ(plan.slot_for(c, c.options_for("plain")), 0u);  // an entry without rate_limit
  EXPECT_EQ(plan.slot_for(c, c.options_for("other")), 0u);  // no entry: the defaults
  EXPECT_EQ(plan.refill_ms(0), 1000);
}

TEST(ConnectionRateLimits, OverTheLimitWaitsAndTheOtherSlotIsSeparate) {
  Config c = config_with_limits();
  RateLimitPlan plan;
  plan.configure(c);
  ConnectionRateLimits conn;
  const int64_t t = 1000;
  EXPECT_EQ(conn.check(plan, 0, 10, t), 0);
  EXPECT_EQ(conn.check(plan, 0, 10, t), 0);
  const int64_t wait = conn.check(plan, 0, 10, t);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 500);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(conn.check(plan, 1, 10, t), 0) << i;
  EXPECT_EQ(conn.check(plan, 0, 10, t + wait), 0);  // refilled
}

TEST(ConnectionRateLimits, NothingConfiguredAllowsEverything) {
  Config c;
  RateLimitPlan plan;
  plan.configure(c);
  EXPECT_FALSE(plan.any());
  ConnectionRateLimits conn;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(conn.check(plan, 0, 1 << 20, 1), 0);
}

TEST(ConnectionRateLimits, AReloadStartsFreshBuckets) {
  Config c = config_with_limits();
  RateLimitPlan plan;
  plan.configure(c);
  ConnectionRateLimits conn;
  (void)conn.check(plan, 0, 1, 1);
  (void)conn.check(plan, 0, 1, 1);
  EXPECT_GT(conn.check(plan, 0, 1, 1), 0);
  c.rate_limit.messages_per_s = 1000;
  plan.configure(c);
  EXPECT_EQ(conn.check(plan, 0, 1, 1), 0);
}

TEST(HttpRateLimits, PerClientIp) {
  Config c = config_with_limits();
  RateLimitPlan plan;
  plan.configure(c);
  HttpRateLimits http;
  EXPECT_EQ(http.check(plan, 0, "192.0.2.1", 5, 1), 0);
  EXPECT_EQ(http.check(plan, 0, "192.0.2.1", 5, 1), 0);
  EXPECT_GT(http.check(plan, 0, "192.0.2.1", 5, 1), 0);
  EXPECT_EQ(http.check(plan, 0, "192.0.2.2", 5, 1), 0);  // another client
  EXPECT_EQ(http.size(), 2u);
}

TEST(HttpRateLimits, BytesPerSecond) {
  Config c;
  c.rate_limit = RateLimitConfig{0, 0, 1000, 1000};
  RateLimitPlan plan;
  plan.configure(c);
  HttpRateLimits http;
  EXPECT_EQ(http.check(plan, 0, "192.0.2.1", 1000, 1), 0);
  const int64_t wait = http.check(plan, 0, "192.0.2.1", 500, 1);
  EXPECT_GE(wait, 400);
  EXPECT_LE(wait, 600);
  EXPECT_EQ(retry_after_header(wait), "Retry-After: 1\r\n");
  EXPECT_EQ(retry_after_header(2001), "Retry-After: 3\r\n");
}

TEST(AccessPolicy, MetricsTokenAndAllowlist) {
  Config c;
  c.metrics_access = MetricsAccess{"metrics-token-123456", "", {"127.0.0.1", "10.0.0.0/8"}};
  std::vector<ConfigError> errors;
  auto p = AccessPolicy::build(c, nullptr, &errors);
  ASSERT_TRUE(p) << errors.front().to_string();
  EXPECT_EQ(p->metrics_status("127.0.0.1", "Bearer metrics-token-123456"), 0);
  EXPECT_EQ(p->metrics_status("10.1.2.3", "bearer metrics-token-123456"), 0);
  EXPECT_EQ(p->metrics_status("127.0.0.1", ""), 401);
  EXPECT_EQ(p->metrics_status("127.0.0.1", "Bearer metrics-token-123457"), 401);
  EXPECT_EQ(p->metrics_status("192.0.2.1", "Bearer metrics-token-123456"), 403);
  EXPECT_EQ(p->metrics_status("", "Bearer metrics-token-123456"), 403);
}

TEST(AccessPolicy, NothingConfiguredLeavesMetricsOpen) {
  std::vector<ConfigError> errors;
  auto p = AccessPolicy::build(Config{}, nullptr, &errors);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->metrics_status("192.0.2.1", ""), 0);
  EXPECT_TRUE(p->api_keys.empty());
}

TEST(AccessPolicy, ApiKeysFromFilesAndCredentials) {
  const std::string dir = ::testing::TempDir();
  { std::ofstream(dir + "/api.key") << "from-a-file-0123456789\n"; }
  Config c;
  c.api_keys = {ApiKeyConfig{"inline", "inline-key-0123456789", "", {"news.*"}},
                ApiKeyConfig{"file", "", dir + "/api.key", {}},
                ApiKeyConfig{"cred", "", "credential:api.key", {}}};
  std::vector<ConfigError> errors;
  auto p = AccessPolicy::build(c, dir.c_str(), &errors);
  ASSERT_TRUE(p) << errors.front().to_string();
  EXPECT_EQ(p->api_keys.size(), 3u);
  EXPECT_EQ(p->api_keys.check("Bearer from-a-file-0123456789", "x").status,
            auth::ApiKeyStatus::kAllowed);  // the trailing newline is not part of the key
  EXPECT_EQ(p->api_keys.check("Bearer inline-key-0123456789", "x").status,
            auth::ApiKeyStatus::kForbidden);
  EXPECT_EQ(p->api_keys.check("Bearer inline-key-0123456789", "news.a").status,
            auth::ApiKeyStatus::kAllowed);
  std::remove((dir + "/api.key").c_str());
}

TEST(AccessPolicy, UnreadableOrShortKeysAreConfigErrorsWithTheirPointer) {
  Config c;
  c.api_keys = {ApiKeyConfig{"gone", "", "/nonexistent/api.key", {}},
                ApiKeyConfig{"cred", "", "credential:x", {}}};
  c.trusted_proxies = {"10.0.0.0/33"};
  c.metrics_access = MetricsAccess{"short", "", {"nope"}};
  std::vector<ConfigError> errors;
  EXPECT_FALSE(AccessPolicy::build(c, nullptr, &errors));
  std::vector<std::string> pointers;
  for (const auto& e : errors) pointers.push_back(e.pointer);
  EXPECT_EQ(pointers,
            (std::vector<std::string>{"/api_keys/0/file", "/api_keys/1/file", "/trusted_proxies/0",
                                      "/metrics_access", "/metrics_access/allow/0"}));
}

}  // namespace
}  // namespace relay::daemon
