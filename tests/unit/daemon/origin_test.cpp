// SPDX-License-Identifier: MIT
// daemon/origin: which browser Origins may open a WebSocket (RFC 6455 §10.2). Without an
// allow-list only the same origin is let in: public_origins, or by default a loopback Origin
// naming the Host (default ports made explicit), never Host alone (DNS rebinding); with
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
  EXPECT_TRUE(is_origin_allowed("http://localhost", "localhost", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://localhost", "localhost", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://evil.example", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://localhost.evil", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://sub.localhost", "localhost", kSameOrigin));
}

TEST(Origin, SameOriginComparesPortsWithDefaultsMadeExplicit) {
  EXPECT_TRUE(is_origin_allowed("http://localhost", "localhost:80", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://localhost:80", "localhost", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://localhost", "localhost:443", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("https://localhost:443", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://localhost", "localhost:443", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("https://localhost", "localhost:80", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://localhost:8080", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://localhost:8080", "localhost:8081", kSameOrigin));
}

TEST(Origin, SameOriginWithIpv6Literals) {
  EXPECT_TRUE(is_origin_allowed("http://[::1]:8080", "[::1]:8080", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://[::1]", "[::1]", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://[::1]", "[::1]:80", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://[::1]:8080", "[::1]", kSameOrigin));
  // An unclosed bracket is no address, whatever it encloses (found by http_request_fuzz).
  EXPECT_FALSE(is_origin_allowed("http://[localhost", "[localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://[localhost:80", "[localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://[::1", "[::1", kSameOrigin));
}

TEST(Origin, SameOriginIgnoresCase) {
  EXPECT_TRUE(is_origin_allowed("http://LocalHost", "LOCALHOST", kSameOrigin));
}

TEST(Origin, SameOriginRefusesOtherSchemesAndAMissingHost) {
  EXPECT_FALSE(is_origin_allowed("ftp://localhost", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("localhost", "localhost", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://localhost", "", kSameOrigin));
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

TEST(Origin, HostAloneIsNotTrustedDnsRebinding) {
  // A page on evil.example whose name now resolves to 127.0.0.1: Host and Origin agree.
  EXPECT_FALSE(is_origin_allowed("http://evil.example:8080", "evil.example:8080", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("https://relay.example", "relay.example", kSameOrigin));
  EXPECT_FALSE(
      is_origin_allowed("http://127.0.0.1.evil.example", "127.0.0.1.evil.example", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://sub.localhost:8080", "sub.localhost:8080", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://10.0.0.1:8080", "10.0.0.1:8080", kSameOrigin));
  EXPECT_FALSE(is_origin_allowed("http://[::2]:8080", "[::2]:8080", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://127.0.0.2:8080", "127.0.0.2:8080", kSameOrigin));
  EXPECT_TRUE(is_origin_allowed("http://LOCALHOST:8080", "localhost:8080", kSameOrigin));
}

TEST(Origin, PublicOriginsAreTheRelaysOwn) {
  const List pub{{"https://chat.example.com", "http://127.0.0.1:8080"}};
  EXPECT_TRUE(is_origin_allowed("https://chat.example.com", "chat.example.com", kSameOrigin, pub));
  // Host does not matter: the relay behind a proxy may see its internal name.
  EXPECT_TRUE(is_origin_allowed("https://Chat.Example.com", "10.0.0.5:8080", kSameOrigin, pub));
  EXPECT_TRUE(is_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", kSameOrigin, pub));
  // The list replaces the loopback default.
  EXPECT_FALSE(is_origin_allowed("http://localhost:8080", "localhost:8080", kSameOrigin, pub));
  EXPECT_FALSE(is_origin_allowed("http://evil.example", "evil.example", kSameOrigin, pub));
  EXPECT_FALSE(is_origin_allowed("null", "chat.example.com", kSameOrigin, List{{"null"}}));
  // allowed_origins, when set, is the whole rule.
  EXPECT_FALSE(is_origin_allowed("https://chat.example.com", "chat.example.com",
                                 List{{"https://app.example"}}, pub));
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
