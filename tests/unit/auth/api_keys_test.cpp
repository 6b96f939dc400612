// SPDX-License-Identifier: MIT
#include "auth/api_keys.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

const std::string kBackend = "backend-key-0123456789abcdef";
const std::string kNarrow = "narrow-key-0123456789abcdef";

ApiKeySet make_keys() {
  ApiKeySet keys;
  std::string error;
  EXPECT_TRUE(keys.add("backend", kBackend, {}, &error)) << error;
  EXPECT_TRUE(keys.add("metrics-bot", kNarrow, {"metrics.*", "alerts"}, &error)) << error;
  return keys;
}

TEST(ApiKeysTest, RightKeyAnyChannel) {
  auto keys = make_keys();
  auto r = keys.check("Bearer " + kBackend, "chat.lobby");
  EXPECT_EQ(r.status, ApiKeyStatus::kAllowed);
  ASSERT_NE(r.name, nullptr);
  EXPECT_EQ(*r.name, "backend");
  EXPECT_EQ(keys.check("bearer  " + kBackend + " ", "x").status, ApiKeyStatus::kAllowed);
}

TEST(ApiKeysTest, WrongKey) {
  auto keys = make_keys();
  EXPECT_EQ(keys.check("Bearer " + kBackend + "x", "x").status, ApiKeyStatus::kWrongKey);
  EXPECT_EQ(keys.check("Bearer " + kBackend.substr(1), "x").status, ApiKeyStatus::kWrongKey);
  EXPECT_EQ(keys.check("Bearer nope", "x").status, ApiKeyStatus::kWrongKey);
  EXPECT_EQ(keys.check("Bearer nope", "x").name, nullptr);
}

TEST(ApiKeysTest, MissingOrNotBearer) {
  auto keys = make_keys();
  EXPECT_EQ(keys.check("", "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check("Bearer", "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check("Bearer ", "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check("Basic " + kBackend, "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check("Bearer" + kBackend, "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check("Bearer " + kBackend + " extra", "x").status, ApiKeyStatus::kMissing);
  EXPECT_EQ(keys.check(kBackend, "x").status, ApiKeyStatus::kMissing);
}

TEST(ApiKeysTest, ChannelLimitedKey) {
  auto keys = make_keys();
  EXPECT_EQ(keys.check("Bearer " + kNarrow, "metrics.cpu").status, ApiKeyStatus::kAllowed);
  EXPECT_EQ(keys.check("Bearer " + kNarrow, "alerts").status, ApiKeyStatus::kAllowed);
  auto r = keys.check("Bearer " + kNarrow, "chat.lobby");
  EXPECT_EQ(r.status, ApiKeyStatus::kForbidden);
  ASSERT_NE(r.name, nullptr);
  EXPECT_EQ(*r.name, "metrics-bot");
}

TEST(ApiKeysTest, WeakKeysAndBadPatternsAreRefused) {
  ApiKeySet keys;
  std::string error;
  EXPECT_FALSE(keys.add("short", "0123456789", {}, &error));
  EXPECT_NE(error.find("16"), std::string::npos);
  EXPECT_FALSE(keys.add("bad", kBackend, {"a*b"}, &error));
  EXPECT_TRUE(keys.empty());
  EXPECT_EQ(keys.check("Bearer " + kBackend, "x").status, ApiKeyStatus::kWrongKey);
}

TEST(ApiKeysTest, BearerCredentials) {
  EXPECT_EQ(bearer_credentials("Bearer abc"), "abc");
  EXPECT_EQ(bearer_credentials("BEARER\tabc"), "abc");
  EXPECT_EQ(bearer_credentials("Bearerabc"), "");
  EXPECT_EQ(bearer_credentials("Token abc"), "");
}

}  // namespace
}  // namespace relay::auth
