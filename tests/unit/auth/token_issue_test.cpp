// SPDX-License-Identifier: MIT
#include "auth/token_issue.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "auth/token_verifier.h"
#include "key_fixture.h"

namespace relay::auth {
namespace {

using test::KeyDir;
using test::must_load;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

class TokenIssueTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = std::make_unique<KeyDir>();
    keys_->make_rsa("rsa");
    keys_->make_ec("ec256", "P-256");
    keys_->make_ec("ec384", "P-384");
  }
  static void TearDownTestSuite() { keys_.reset(); }
  static std::unique_ptr<KeyDir> keys_;
};
std::unique_ptr<KeyDir> TokenIssueTest::keys_;

TEST_F(TokenIssueTest, EveryAlgorithmRoundTrips) {
  std::vector<Key> keys = {
      must_load({.kid = "h1", .alg = "HS256", .secret = kSecret}),
      must_load({.kid = "h3", .alg = "HS384", .secret = kSecret}),
      must_load({.kid = "h5", .alg = "HS512", .secret = kSecret}),
      must_load({.kid = "r1", .alg = "RS256", .file = keys_->path("rsa.pem")}),
      must_load({.kid = "r3", .alg = "RS384", .file = keys_->path("rsa.pem")}),
      must_load({.kid = "r5", .alg = "RS512", .file = keys_->path("rsa.pem")}),
      must_load({.kid = "e2", .alg = "ES256", .file = keys_->path("ec256.pem")}),
      must_load({.kid = "e3", .alg = "ES384", .file = keys_->path("ec384.pem")}),
  };
  TokenVerifier verifier(keys, {});
  TokenSpec spec{.sub = "alice",
                 .subscribe = {"chat.*"},
                 .publish = {"chat.lobby"},
                 .ttl_s = 3600,
                 .now_s = 1'800'000'000};
  for (const auto& key : keys) {
    std::string token = make_token(key, spec);
    ASSERT_FALSE(token.empty()) << key.kid;
    auto r = verifier.verify(token, spec.now_s + 10);
    ASSERT_TRUE(r.ok()) << key.kid << ": " << failure_name(r.failure);
    EXPECT_EQ(r.identity.sub, "alice");
    EXPECT_EQ(r.identity.exp, spec.now_s + 3600);
    EXPECT_EQ(r.identity.jti.size(), 22u);  // random 128 bits, base64url
    EXPECT_EQ(r.identity.rights.subscribe, spec.subscribe);
    EXPECT_EQ(r.identity.rights.publish, spec.publish);
    EXPECT_EQ(verifier.verify(token, spec.now_s + 3600 + 5).failure, AuthFailure::kExpired);
  }
}

TEST_F(TokenIssueTest, PyJwtVerifiesOurTokens) {
  // The other direction of the independent check: python3-jwt verifies what libjwt signed.
  Key es = must_load({.kid = "e2", .alg = "ES256", .file = keys_->path("ec256.pem")});
  std::string token = make_token(es, {.sub = "bob", .ttl_s = 600, .audience = "wsrelay"});
  std::string script =
      "import jwt,sys; print(jwt.decode(sys.argv[1], open(sys.argv[2]).read(), "
      "algorithms=['ES256'], audience='wsrelay')['sub'])";
  EXPECT_EQ(test::run(std::string(test::kPython) + " -c " + test::quote(script) + " " + token +
                      " " + keys_->path("ec256.pub.pem")),
            "bob");
}

TEST_F(TokenIssueTest, RefusesWhatItCannotSign) {
  Key public_only = must_load({.kid = "r", .alg = "RS256", .pem = keys_->pub("rsa")});
  EXPECT_EQ(make_token(public_only, {.sub = "x"}), "");
  Key hs = must_load({.kid = "h", .alg = "HS256", .secret = kSecret});
  EXPECT_EQ(make_token(hs, {.sub = "x", .subscribe = {"a*b"}}), "");
}

TEST_F(TokenIssueTest, NoTtlMeansNoExp) {
  Key hs = must_load({.alg = "HS256", .secret = kSecret});
  std::string token = make_token(hs, {.sub = "svc", .ttl_s = 0, .jti = "fixed"});
  auto r = TokenVerifier({hs}, {.require_exp = false}).verify(token, 2'000'000'000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.identity.exp, 0);
  EXPECT_EQ(r.identity.jti, "fixed");
}

TEST(MakeSecretTest, Base64url256Bits) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string s = make_secret();
    EXPECT_EQ(s.size(), 43u);
    auto raw = base64url_decode(s);
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 32u);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(ParseTtlTest, Units) {
  EXPECT_EQ(parse_ttl("90"), 90);
  EXPECT_EQ(parse_ttl("90s"), 90);
  EXPECT_EQ(parse_ttl("15m"), 900);
  EXPECT_EQ(parse_ttl("1h"), 3600);
  EXPECT_EQ(parse_ttl("7d"), 7 * 86400);
  for (const char* bad : {"", "h", "0", "-5", "1x", "1hh", "99999999999d"})
    EXPECT_FALSE(parse_ttl(bad)) << bad;
}

}  // namespace
}  // namespace relay::auth
