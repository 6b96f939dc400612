// SPDX-License-Identifier: MIT
// What a node PUBLISHes to Redis: kind and origin node survive, payload bytes unchanged.
#include "redis/redis_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relay::daemon::redis {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(RedisMessage, RoundTripKeepsKindNodeAndEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string out;
  for (wire::PayloadKind k :
       {wire::PayloadKind::kText, wire::PayloadKind::kBinary, wire::PayloadKind::kData}) {
    for (const std::string& p : {std::string(), all, std::string("x")}) {
      encode(k, 0x0102030405060708ull, bytes_of(p), &out);
      ASSERT_EQ(out.size(), kHeaderBytes + p.size());
      const auto d = decode(out);
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(d->kind, k);
      EXPECT_EQ(d->node, 0x0102030405060708ull);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(d->payload.data()), d->payload.size()),
                p);
    }
  }
}

TEST(RedisMessage, ForeignBytesAreRefused) {
  EXPECT_FALSE(decode("").has_value());
  EXPECT_FALSE(decode("t1234567").has_value());          // shorter than the header
  EXPECT_FALSE(decode("x12345678payload").has_value());  // unknown kind
  EXPECT_TRUE(decode("b12345678").has_value());          // empty payload
}

// What the Lua script publishes on a channel with history: the position, then our bytes.
TEST(RedisMessage, PositionPrefixIsReadBack) {
  std::string body;
  encode(wire::PayloadKind::kText, 7, bytes_of("hi"), &body);
  const std::string wire = "h00c0ffee" + std::string("000000000000002a") + body;
  const auto p = decode_position(wire);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->epoch, 0xc0ffeeu);
  EXPECT_EQ(p->offset, 42u);
  EXPECT_EQ(p->rest, body);
  EXPECT_FALSE(decode_position(body).has_value());  // no history: no position
  EXPECT_FALSE(
      decode_position("h00c0ffeezz00000000000000" + body).has_value());  // malformed offset
  EXPECT_EQ(parse_epoch("00c0ffee"), 0xc0ffeeu);
  EXPECT_EQ(parse_epoch("c0ffee"), 0u);
}

}  // namespace
}  // namespace relay::daemon::redis
