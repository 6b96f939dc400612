// SPDX-License-Identifier: MIT
// daemon/wire: the JSON the relay sends on /ws (acks, publish acks, errors, deliveries),
// byte for byte as README "The JSON protocol on /ws" shows it, with strings escaped as
// RFC 8259 §7 asks and binary payloads in base64 (RFC 4648 §4, its §10 test vectors).
#include "wire.h"

#include <gtest/gtest.h>

#include <string>

namespace relay::daemon::wire {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(WireAck, CarriesTheRequestIdAsSent) {
  EXPECT_EQ(encode_ack("1"), R"({"id":1,"ok":true})");
  EXPECT_EQ(encode_ack(R"("req-7")"), R"({"id":"req-7","ok":true})");
  EXPECT_EQ(encode_ack(""), R"({"id":null,"ok":true})");
}

TEST(WireAck, PublishAckCountsDeliveries) {
  EXPECT_EQ(encode_publish_ack("3", 12), R"({"id":3,"ok":true,"delivered":12})");
  EXPECT_EQ(encode_publish_ack("", 0), R"({"id":null,"ok":true,"delivered":0})");
  EXPECT_EQ(encode_publish_ack(R"("x")", 4294967296u),
            R"({"id":"x","ok":true,"delivered":4294967296})");
}

TEST(WireError, CodeAndReason) {
  EXPECT_EQ(encode_error("5", 422, "bad channel name"),
            R"({"id":5,"error":{"code":422,"reason":"bad channel name"}})");
  EXPECT_EQ(encode_error("", 404, "unknown op"),
            R"({"id":null,"error":{"code":404,"reason":"unknown op"}})");
}

TEST(WireError, ReasonIsEscaped) {
  EXPECT_EQ(encode_error("1", 400, "say \"hi\" \\ now\n"),
            R"({"id":1,"error":{"code":400,"reason":"say \"hi\" \\ now\n"}})");
}

TEST(WireDelivery, DataIsTheJsonTextAsPublished) {
  std::string data = R"({"user":"ann","says":"hi"})";
  EXPECT_EQ(encode_delivery("chat", PayloadKind::kData, bytes_of(data)),
            R"({"channel":"chat","data":{"user":"ann","says":"hi"}})");
  EXPECT_EQ(encode_delivery("n", PayloadKind::kData, bytes_of("42")),
            R"({"channel":"n","data":42})");
}

TEST(WireDelivery, TextIsAJsonString) {
  EXPECT_EQ(encode_delivery("chat", PayloadKind::kText, bytes_of("hello from a raw client")),
            R"({"channel":"chat","text":"hello from a raw client"})");
  EXPECT_EQ(encode_delivery("chat", PayloadKind::kText, bytes_of("")),
            R"({"channel":"chat","text":""})");
}

TEST(WireDelivery, TextEscapesQuotesBackslashesAndControlCharacters) {
  std::string text = std::string("q\" b\\ n\n r\r t\t b\b f\f nul") + '\0' + " \x01 \x1f end";
  EXPECT_EQ(encode_delivery("c", PayloadKind::kText, bytes_of(text)),
            "{\"channel\":\"c\",\"text\":"
            R"("q\" b\\ n\n r\r t\t b\b f\f nul\u0000 \u0001 \u001f end"})");
}

TEST(WireDelivery, TextKeepsNonAsciiAsUtf8) {
  // U+00E9, U+20AC, U+1F600: sent as their UTF-8 bytes, not as \u escapes.
  std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  EXPECT_EQ(encode_delivery("c", PayloadKind::kText, bytes_of(text)),
            "{\"channel\":\"c\",\"text\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
  // DEL and '/' need no escape in JSON.
  EXPECT_EQ(encode_delivery("c", PayloadKind::kText, bytes_of("a/b\x7f")),
            "{\"channel\":\"c\",\"text\":\"a/b\x7f\"}");
}

TEST(WireDelivery, BinaryIsBase64) {
  const char raw[] = {0, 1, 2, 3};
  EXPECT_EQ(encode_delivery("chat", PayloadKind::kBinary, bytes_of({raw, 4})),
            R"({"channel":"chat","binary":"AAECAw=="})");
  EXPECT_EQ(encode_delivery("chat", PayloadKind::kBinary, bytes_of("")),
            R"({"channel":"chat","binary":""})");
  // Bytes that are not UTF-8 travel untouched.
  EXPECT_EQ(encode_delivery("b", PayloadKind::kBinary, bytes_of("\xff\xfe\"\n")),
            R"({"channel":"b","binary":"//4iCg=="})");
}

TEST(WireDelivery, ChannelNameIsQuoted) {
  EXPECT_EQ(encode_delivery("room:1/a-b_c.d", PayloadKind::kText, bytes_of("x")),
            R"({"channel":"room:1/a-b_c.d","text":"x"})");
}

TEST(WireBase64, Rfc4648TestVectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(bytes_of(plain)), encoded) << plain;
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
}

TEST(WireBase64, DecodeRefusesAnythingButStrictBase64) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zg==\n", " Zg==", "Zg==Zm9v",
                          "Zm9v-A==", "Zm9v\nYmFy", "Zm9v YmFy", "Zm9vYmFy="}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

TEST(WireParse, PublishBinaryIsDecoded) {
  Error err;
  auto req = parse_request(R"({"op":"publish","channel":"c","binary":"AAECAw==","id":9})", &err);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, Op::kPublish);
  EXPECT_EQ(req->kind, PayloadKind::kBinary);
  EXPECT_EQ(req->payload, std::string("\0\1\2\3", 4));
  EXPECT_EQ(req->id_json, "9");
}

TEST(WireParse, UnknownOpIs404WithTheId) {
  Error err;
  EXPECT_FALSE(parse_request(R"({"op":"jump","id":3})", &err));
  EXPECT_EQ(err.code, 404);
  EXPECT_EQ(err.reason, "unknown op");
  EXPECT_EQ(encode_error(err.id_json, err.code, err.reason),
            R"({"id":3,"error":{"code":404,"reason":"unknown op"}})");
}

}  // namespace
}  // namespace relay::daemon::wire
