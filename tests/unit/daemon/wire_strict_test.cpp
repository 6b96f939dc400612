// SPDX-License-Identifier: MIT
// daemon/wire: strict requests (a repeated key is a 400), data relayed as the exact text the
// publisher sent, a JSON body delivered as data and check_json's error positions (issues 9 and 14).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/bytes.h"
#include "wire.h"

namespace relay::daemon::wire {
namespace {

using relay::as_bytes;

Request parse_ok(std::string_view text) {
  Error err;
  std::optional<Request> r = parse_request(text, &err);
  EXPECT_TRUE(r.has_value()) << text << ": " << err.reason;
  return r.value_or(Request{});
}

Error parse_bad(std::string_view text) {
  Error err;
  EXPECT_FALSE(parse_request(text, &err).has_value()) << text;
  return err;
}

TEST(Wire, DuplicateKeysAreRefused) {
  // nlohmann alone keeps the last "op": this would have subscribed.
  Error e = parse_bad(R"({"id":7,"op":"publish","op":"subscribe","channel":"a","data":1})");
  EXPECT_EQ(e.code, code::kBadRequest);
  EXPECT_EQ(e.reason, "duplicate key /op");
  EXPECT_EQ(e.id_json, "7");  // the reply still names the request
  e = parse_bad(R"({"op":"publish","channel":"a","data":{"x":1,"y":[{"k":1,"k":2}]}})");
  EXPECT_EQ(e.reason, "duplicate key /data/y/0/k");
  e = parse_bad(R"({"id":1,"id":2,"op":"ping"})");
  EXPECT_EQ(e.id_json, "");  // which id? neither
  EXPECT_EQ(e.code, code::kBadRequest);
  EXPECT_EQ(parse_bad(R"({"op":"ping","op":"ping",)").reason, "malformed JSON");
  // The same key in sibling objects is fine.
  parse_ok(R"({"op":"publish","channel":"a","data":[{"k":1},{"k":2}]})");
}

TEST(Wire, DataIsRelayedVerbatim) {
  const Request big =
      parse_ok(R"({"op":"publish","channel":"n","data":1267650600228229401496703205376})");
  EXPECT_EQ(big.kind, PayloadKind::kData);
  EXPECT_EQ(big.payload, "1267650600228229401496703205376");  // 2^100, every digit
  EXPECT_EQ(encode_delivery("n", big.kind, as_bytes(big.payload)),
            R"({"channel":"n","data":1267650600228229401496703205376})");

  const struct {
    const char* request;
    const char* data;
  } cases[] = {
      {R"({"data": 1.50e+3 , "op":"publish","channel":"a"})", "1.50e+3"},
      {R"({"op":"publish","channel":"a","data":{ "b" : [1, "]}\"" ] }})",
       R"({ "b" : [1, "]}\"" ] })"},
      {R"({"op":"publish","channel":"a","data":"x\u00e9"})", R"("x\u00e9")"},
      {R"({"op":"publish","channel":"a","data":null})", "null"},
      {R"({"op":"publish","channel":"a","text":"{\"data\":1}","d\u0061ta":[true]})", nullptr},
      {"{\"op\":\"publish\",\"channel\":\"a\",\"d\\u0061ta\":[true,false]\n}", "[true,false]"},
      {R"({"op":"publish","channel":"a","x":{"data":1},"data":-0.0})", "-0.0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request);
    Error err;
    const std::optional<Request> r = parse_request(c.request, &err);
    if (!c.data) {
      EXPECT_FALSE(r.has_value());  // two payload kinds
      continue;
    }
    ASSERT_TRUE(r.has_value()) << err.reason;
    EXPECT_EQ(r->payload, c.data);
    const std::string d = encode_delivery("a", r->kind, as_bytes(r->payload));
    EXPECT_EQ(d, std::string(R"({"channel":"a","data":)") + c.data + "}");
    EXPECT_FALSE(nlohmann::json::parse(d, nullptr, false).is_discarded()) << d;
  }
}

TEST(Wire, MemberText) {
  EXPECT_EQ(member_text(R"({"a":1,"b":"x,}"})", "b"), R"("x,}")");
  EXPECT_EQ(member_text(R"( { "a" : [ 1 , 2 ] } )", "a"), "[ 1 , 2 ]");
  EXPECT_EQ(member_text(R"({"a":{"b":2}})", "b"), std::nullopt);  // top level only
  EXPECT_EQ(member_text(R"([1])", "a"), std::nullopt);
}

TEST(Wire, HttpJsonBodyIsDeliveredAsData) {
  const std::string text = "{\"t\": 21.5000}";
  EXPECT_EQ(encode_delivery("s", PayloadKind::kData, as_bytes(text)),
            "{\"channel\":\"s\",\"data\":{\"t\": 21.5000}}");
}

TEST(Wire, CheckJson) {
  EXPECT_EQ(check_json(R"({"a":[1,2,{"b":null}]})"), std::nullopt);
  EXPECT_EQ(check_json(" 12345678901234567890123 "), std::nullopt);
  EXPECT_EQ(check_json("\"\""), std::nullopt);
  const std::optional<std::string> bad = check_json(R"({"temperature": 21.5,})");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rfind("invalid JSON at byte 22: ", 0), 0u) << *bad;
  EXPECT_EQ(check_json(R"({"a":1,"a":2})"), "invalid JSON: duplicate key /a");
  const std::optional<std::string> empty = check_json("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->rfind("invalid JSON at byte 1: ", 0), 0u) << *empty;
  EXPECT_NE(empty->find("unexpected end of input"), std::string::npos) << *empty;
  EXPECT_EQ(check_json(std::string_view("1\0 2", 4))->rfind("invalid JSON at byte 2: ", 0), 0u);
  EXPECT_TRUE(check_json("[1] [2]").has_value());
  EXPECT_TRUE(check_json("{\"a\":\"\xff\"}").has_value());  // not UTF-8
}

}  // namespace
}  // namespace relay::daemon::wire
