// SPDX-License-Identifier: MIT
// daemon/origin: which browser Origins may open a WebSocket (RFC 6455 §10.2). Without an
// allow-list only the same origin (by Host, default ports made explicit) is let in; with
// one, exactly its entries or "*"; no Origin (not a browser) always passes, "null" never.
#include "origin.h"

#include <gtest/gtest.h>

namespace relay::daemon {
namespace {

using List = std::optional<std::vector<std::string>>;
const List kSameOrigin = std::nullopt;

TEST(Origin, AbsentOriginIsNotABrowserAndPasses) {
  EXPECT_TRUE(is_origin_allowed("", "relay.example", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("", "", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("", "relay.example", List{{"https://app.example"}}));
  EXPECT_TRUE(is_origin_allowed("", "relay.example", List{std::vector<std::string>{}}));
}

TEST(Origin, NullOriginIsAlwaysRefused) {
  EXPECT_FALSE(is_origin_allowed("null", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("NULL", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("null", "relay.example", List{{"*"}}));
  EXPECT_FALSE(is_origin_allowed("null", "relay.example", List{{"null"}}));
}

TEST(Origin, SameOriginByHost) {
  EXPECT_TRUE(is_origin_allowed("http://relay.example", "relay.example", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://relay.example", "relay.example", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://evil.example", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://relay.example.evil", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://sub.relay.example", "relay.example", kSameOrigin));
}

TEST(Origin, SameOriginComparesPortsWithDefaultsMadeExplicit) {
  EXPECT_TRUE(is_origin_allowed("http://relay.example", "relay.example:80", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://relay.example:80", "relay.example", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://relay.example", "relay.example:443", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://relay.example:443", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://relay.example", "relay.example:443", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("https://relay.example", "relay.example:80", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://relay.example:8080", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://relay.example:8080", "relay.example:8081", kSameOrigin));
}

TEST(Origin, SameOriginWithIpv6Literals) {
  EXPECT_TRUE(is_origin_allowed("http://[::1]:8080", "[::1]:8080", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://[::1]", "[::1]", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://[::1]", "[::1]:80", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://[::1]:8080", "[::1]", kSameOrigin));
}

TEST(Origin, SameOriginIgnoresCase) {
  EXPECT_TRUE(is_origin_allowed("http://RELAY.Example", "relay.EXAMPLE", kSameOrigin));
}

TEST(Origin, SameOriginRefusesOtherSchemesAndAMissingHost) {
  EXPECT_FALSE(is_origin_allowed("ftp://relay.example", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("relay.example", "relay.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://relay.example", "", kSameOrigin));
}

TEST(Origin, AllowListMatchesEntriesExactlyButForCase) {
  const List allowed{{"https://app.example", "http://localhost:3000"}};
  EXPECT_TRUE(is_origin_allowed("https://app.example", "relay.example", allowed));
  EXPECT_TRUE(is_origin_allowed("HTTPS://APP.EXAMPLE", "relay.example", allowed));
  EXPECT_TRUE(is_origin_allowed("http://localhost:3000", "relay.example", allowed));
  EXPECT_FALSE(is_origin_allowed("http://app.example", "relay.example", allowed));
  EXPECT_FALSE(is_origin_allowed("https://app.example:443", "relay.example", allowed));
  EXPECT_FALSE(is_origin_allowed("http://localhost:3001", "relay.example", allowed));
  EXPECT_FALSE(is_origin_allowed("https://app.example.evil", "relay.example", allowed));
}

TEST(Origin, AllowListReplacesTheSameOriginRule) {
  const List allowed{{"https://app.example"}};
  EXPECT_FALSE(is_origin_allowed("http://relay.example", "relay.example", allowed));
  EXPECT_FALSE(
      is_origin_allowed("http://relay.example", "relay.example", List{std::vector<std::string>{}}));
}

TEST(Origin, StarAllowsEveryBrowserOrigin) {
  const List allowed{{"*"}};
  EXPECT_TRUE(is_origin_allowed("https://anything.example", "relay.example", allowed));
  EXPECT_TRUE(is_origin_allowed("http://127.0.0.1:9", "", allowed));
}

}  // namespace
}  // namespace relay::daemon
