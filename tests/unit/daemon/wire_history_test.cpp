// SPDX-License-Identifier: MIT
// The history members of the /ws protocol (README "History and recovery"): recover,
// presence_events, since and limit parsed strictly; offsets in deliveries and acks.
#include <gtest/gtest.h>

#include <string>

#include "base/bytes.h"
#include "wire.h"

namespace relay::daemon::wire {
namespace {

std::optional<Request> parse(std::string_view text, Error* err) { return parse_request(text, err); }

TEST(WireHistory, SubscribeTakesRecoverAndPresenceEvents) {
  Error err;
  auto r = parse(
      R"({"op":"subscribe","id":1,"channel":"c","recover":{"offset":18446744073709551615,"epoch":"a1b2c3d4"},"presence_events":true})",
      &err);
  ASSERT_TRUE(r) << err.reason;
  ASSERT_TRUE(r->recover);
  EXPECT_EQ(r->recover->offset, 18446744073709551615ull);
  EXPECT_EQ(r->recover->epoch, "a1b2c3d4");
  EXPECT_TRUE(r->presence_events);
  r = parse(R"({"op":"subscribe","channel":"c"})", &err);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->recover);
  EXPECT_FALSE(r->presence_events);
}

TEST(WireHistory, MalformedMembersAre400) {
  for (std::string_view bad : {
           R"({"op":"subscribe","channel":"c","recover":{"offset":-1,"epoch":"x"}})",
           R"({"op":"subscribe","channel":"c","recover":{"offset":1.5,"epoch":"x"}})",
           R"({"op":"subscribe","channel":"c","recover":{"offset":"1","epoch":"x"}})",
           R"({"op":"subscribe","channel":"c","recover":{"offset":1}})",
           R"({"op":"subscribe","channel":"c","recover":[1,"x"]})",
           R"({"op":"subscribe","channel":"c","presence_events":1})",
           R"({"op":"history","channel":"c","limit":0})",
           R"({"op":"history","channel":"c","limit":-3})",
           R"({"op":"history","channel":"c","since":{"epoch":"x"}})",
           R"({"op":"presence"})",
       }) {
    Error err;
    EXPECT_FALSE(parse(bad, &err)) << bad;
    EXPECT_EQ(err.code, code::kBadRequest) << bad;
  }
}

TEST(WireHistory, HistoryAndPresenceOps) {
  Error err;
  auto r = parse(
      R"({"op":"history","id":"h","channel":"c","limit":5000,"since":{"offset":3,"epoch":"e"}})",
      &err);
  ASSERT_TRUE(r) << err.reason;
  EXPECT_EQ(r->op, Op::kHistory);
  EXPECT_EQ(r->limit, kMaxHistoryLimit);  // capped
  ASSERT_TRUE(r->since);
  EXPECT_EQ(r->since->offset, 3u);
  r = parse(R"({"op":"presence","id":2,"channel":"c"})", &err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, Op::kPresence);
}

TEST(WireHistory, OffsetsInDeliveriesAndAcks) {
  EXPECT_EQ(encode_delivery("c", PayloadKind::kData, as_bytes(std::string_view("{\"a\":1}")), 17),
            R"({"channel":"c","offset":17,"data":{"a":1}})");
  EXPECT_EQ(encode_delivery("c", PayloadKind::kText, as_bytes(std::string_view("t"))),
            R"({"channel":"c","text":"t"})");
  EXPECT_EQ(encode_publish_ack("1", 3, 9), R"({"id":1,"ok":true,"delivered":3,"offset":9})");
  EXPECT_EQ(encode_publish_ack("1", 3), R"({"id":1,"ok":true,"delivered":3})");
}

}  // namespace
}  // namespace relay::daemon::wire
