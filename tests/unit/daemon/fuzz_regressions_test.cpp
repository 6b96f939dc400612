// SPDX-License-Identifier: MIT
// What the daemon's fuzz targets (tests/fuzz/wire_fuzz, config_fuzz) found, pinned down:
// lenient base64 that decoded padding and whitespace into data, JSON cut short at a NUL
// byte (nlohmann's lexer treats NUL as the end of input), a config error pointer broken by
// a key holding ": '", and a long allowed_origins entry overflowing the stack in std::regex.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config.h"
#include "wire.h"

namespace relay::daemon {
namespace {

using namespace std::string_literals;

TEST(FuzzRegressions, Base64DecodeIsStrict) {
  // RFC 4648 §4: the alphabet, then at most two '=' at the end.
  for (const char* bad : {"QQ==\n\n\n\n", "QQ==    ", "    QQ==", "QUJD----", "QQ==QUJD",
                          "====", "Q===", "QQ=A", "Q=Q=", "QU JD", "QUJ", "QU*D", "QUJD\r\r\r\r"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(wire::base64_decode(bad), std::nullopt);
  }
  EXPECT_EQ(wire::base64_decode(""), ""s);
  EXPECT_EQ(wire::base64_decode("QQ=="), "A"s);
  EXPECT_EQ(wire::base64_decode("QUI="), "AB"s);
  EXPECT_EQ(wire::base64_decode("QUJD"), "ABC"s);
  EXPECT_EQ(wire::base64_decode("AAECAw=="), "\x00\x01\x02\x03"s);
  EXPECT_EQ(wire::base64_decode("+/+/"), "\xfb\xff\xbf"s);
}

TEST(FuzzRegressions, PublishRefusesNonCanonicalBase64) {
  wire::Error err;
  auto req =
      wire::parse_request(R"({"op":"publish","channel":"c","binary":"QQ==\n\n\n\n","id":1})", &err);
  EXPECT_FALSE(req);
  EXPECT_EQ(err.code, wire::code::kBadRequest);
  EXPECT_EQ(err.reason, "binary is not valid base64");
  EXPECT_EQ(err.id_json, "1");
}

TEST(FuzzRegressions, RequestWithNulIsMalformed) {
  wire::Error err;
  const std::string text = "{\"op\":\"jump\",\"id\":2}\0{\"x\":"s;
  EXPECT_FALSE(wire::parse_request(text, &err));
  EXPECT_EQ(err.code, wire::code::kBadRequest);
  EXPECT_EQ(err.reason, "malformed JSON");
  EXPECT_EQ(err.id_json, "");
}

TEST(FuzzRegressions, ConfigWithNulIsMalformed) {
  const ConfigResult r = parse_config("{}\0{\"bogus\": 1}"s, "t.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.pointer, "");
  EXPECT_EQ(r.error.message, "malformed JSON at byte 3: a NUL byte");
}

TEST(FuzzRegressions, UnknownKeyWithQuoteColonKeepsItsPointer) {
  const ConfigResult r = parse_config(R"({"it's: 'x'": 1})", "t.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.pointer, "/it's: 'x'");
  EXPECT_EQ(r.error.message, "unknown key");
}

TEST(FuzzRegressions, LongOriginIsAnErrorNotAStackOverflow) {
  // Was a SIGSEGV from about 50 000 characters on: std::regex recursed once per character.
  const std::string host(1000000, 'a');
  const ConfigResult r =
      parse_config(R"({"allowed_origins": ["http://)" + host + R"("]})", "t.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.pointer, "/allowed_origins/0");
  // The limits the schema states: 300 characters of host[:port], 32 of scheme.
  EXPECT_TRUE(
      parse_config(R"({"allowed_origins": ["http://)" + std::string(300, 'a') + R"("]})", "t"));
  EXPECT_FALSE(
      parse_config(R"({"allowed_origins": ["http://)" + std::string(301, 'a') + R"("]})", "t"));
  EXPECT_TRUE(parse_config(R"({"allowed_origins": [")" + std::string(32, 'x') + R"(://a"]})", "t"));
  EXPECT_FALSE(
      parse_config(R"({"allowed_origins": [")" + std::string(33, 'x') + R"(://a"]})", "t"));
}

}  // namespace
}  // namespace relay::daemon
