// SPDX-License-Identifier: MIT
#include "auth/client_ip.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

TrustedProxies proxies() {
  TrustedProxies t;
  EXPECT_TRUE(t.add("10.0.0.0/8"));
  EXPECT_TRUE(t.add("127.0.0.1"));
  EXPECT_TRUE(t.add("fd00::/8"));
  return t;
}

TEST(ClientIpTest, Cidr) {
  auto c = parse_cidr("192.168.1.0/24");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*parse_ip("192.168.1.200")));
  EXPECT_FALSE(c->contains(*parse_ip("192.168.2.1")));
  EXPECT_FALSE(c->contains(*parse_ip("::ffff:192.168.2.1")));
  EXPECT_TRUE(c->contains(*parse_ip("::ffff:192.168.1.9")));  // IPv4-mapped is IPv4
  auto odd = parse_cidr("10.128.0.0/9");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*parse_ip("10.200.1.1")));
  EXPECT_FALSE(odd->contains(*parse_ip("10.1.1.1")));
  auto v6 = parse_cidr("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("2001:db9::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("10.0.0.1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(*parse_ip("8.8.8.8")));
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8",
                          "host.example", "10.0.0.0/8/8"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
}

TEST(ClientIpTest, UntrustedPeerIsTheClient) {
  auto t = proxies();
  EXPECT_EQ(resolve_client_ip("203.0.113.7", "1.2.3.4", "", t), "203.0.113.7");
  EXPECT_EQ(resolve_client_ip("203.0.113.7", "", "for=1.2.3.4", t), "203.0.113.7");
}

TEST(ClientIpTest, RightMostUntrustedAddressWins) {
  auto t = proxies();
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "198.51.100.9", "", t), "198.51.100.9");
  // The client wrote "6.6.6.6" itself; the proxies appended the rest.
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "6.6.6.6, 198.51.100.9, 10.1.2.3", "", t),
            "198.51.100.9");
  EXPECT_EQ(resolve_client_ip("10.0.0.5", "198.51.100.9:5555,10.0.0.6", "", t), "198.51.100.9");
  EXPECT_EQ(resolve_client_ip("fd00::1", "2001:db8::42, fd00::2", "", t), "2001:db8::42");
  EXPECT_EQ(resolve_client_ip("::ffff:127.0.0.1", "198.51.100.9", "", t), "198.51.100.9");
  EXPECT_EQ(resolve_client_ip("127.0.0.1:40000", "198.51.100.9", "", t), "198.51.100.9");
  EXPECT_EQ(resolve_client_ip("[fd00::1]:40000", "198.51.100.9", "", t), "198.51.100.9");
  EXPECT_EQ(resolve_client_ip("203.0.113.7:40000", "198.51.100.9", "", t), "203.0.113.7");
}

TEST(ClientIpTest, EveryHopTrustedGivesTheLeftMost) {
  auto t = proxies();
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "10.9.9.9, 10.1.1.1", "", t), "10.9.9.9");
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "", "", t), "127.0.0.1");
}

TEST(ClientIpTest, GarbageStopsAtTheLastKnownHop) {
  auto t = proxies();
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "1.2.3.4, unknown, 10.1.1.1", "", t), "10.1.1.1");
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "not-an-ip", "", t), "127.0.0.1");
}

TEST(ClientIpTest, ForwardedHeader) {
  auto t = proxies();
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "", "for=192.0.2.60;proto=http;by=203.0.113.43", t),
            "192.0.2.60");
  EXPECT_EQ(
      resolve_client_ip("127.0.0.1", "", R"(for="[2001:db8:cafe::17]:4711", for=10.0.0.2)", t),
      "2001:db8:cafe::17");
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "", R"(For="192.0.2.43:47011")", t), "192.0.2.43");
  // Forwarded wins over X-Forwarded-For when both are present.
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "198.51.100.1", "for=192.0.2.60", t), "192.0.2.60");
  EXPECT_EQ(resolve_client_ip("127.0.0.1", "", "for=_hidden, for=10.0.0.3", t), "10.0.0.3");
}

}  // namespace
}  // namespace relay::auth
