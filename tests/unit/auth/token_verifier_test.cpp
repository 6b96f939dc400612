// SPDX-License-Identifier: MIT
#include "auth/token_verifier.h"

#include <gtest/gtest.h>

#include <memory>

#include "auth/rights.h"
#include "key_fixture.h"

namespace relay::auth {
namespace {

using test::hs256_by_hand;
using test::KeyDir;
using test::must_load;
using test::pyjwt_sign;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";
const std::string kOtherSecret = "fedcba9876543210fedcba9876543210-other";

std::string claims_exp(int64_t exp, const std::string& extra = "") {
  return R"({"sub":"alice","jti":"t-1","exp":)" + std::to_string(exp) + extra + "}";
}

class TokenVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = std::make_unique<KeyDir>();
    keys_->make_rsa("rsa");
    keys_->make_rsa("rsa2");
    keys_->make_ec("ec256", "P-256");
    keys_->make_ec("ec256b", "P-256");
    keys_->make_ec("ec384", "P-384");
    test::write_text(keys_->path("hs.key"), kSecret);
    test::write_text(keys_->path("hs-other.key"), kOtherSecret);
  }
  static void TearDownTestSuite() { keys_.reset(); }

  static Key hs(const std::string& kid = "hs", const std::string& alg = "HS256") {
    return must_load({.kid = kid, .alg = alg, .secret = kSecret});
  }
  static Key rs(const std::string& kid = "rs", const std::string& alg = "RS256") {
    return must_load({.kid = kid, .alg = alg, .pem = keys_->pub("rsa")});
  }
  static Key es(const std::string& kid = "es", const std::string& alg = "ES256",
                const std::string& name = "ec256") {
    return must_load({.kid = kid, .alg = alg, .pem = keys_->pub(name)});
  }
  static TokenVerifier verifier(std::vector<Key> keys, VerifyOptions options = {}) {
    return TokenVerifier(std::move(keys), std::move(options));
  }
  static AuthFailure failure(const TokenVerifier& v, const std::string& token, int64_t now = kNow) {
    return v.verify(token, now).failure;
  }

  static std::unique_ptr<KeyDir> keys_;
};
std::unique_ptr<KeyDir> TokenVerifierTest::keys_;

TEST_F(TokenVerifierTest, AcceptsPyJwtTokensForEveryAlgorithm) {
  struct Case {
    std::string alg, key_file;
    Key key;
  };
  std::vector<Case> cases = {
      {"HS256", keys_->path("hs.key"), hs("k", "HS256")},
      {"HS384", keys_->path("hs.key"), hs("k", "HS384")},
      {"HS512", keys_->path("hs.key"), hs("k", "HS512")},
      {"RS256", keys_->path("rsa.pem"), rs("k", "RS256")},
      {"RS384", keys_->path("rsa.pem"), rs("k", "RS384")},
      {"RS512", keys_->path("rsa.pem"), rs("k", "RS512")},
      {"ES256", keys_->path("ec256.pem"), es("k", "ES256", "ec256")},
      {"ES384", keys_->path("ec384.pem"), es("k", "ES384", "ec384")},
  };
  for (auto& c : cases) {
    auto v = verifier({c.key});
    std::string claims = claims_exp(kNow + 600, R"(,"channels":{"subscribe":["chat.*"]})");
    auto r = v.verify(pyjwt_sign(c.key_file, c.alg, claims, R"({"kid":"k"})"), kNow);
    ASSERT_TRUE(r.ok()) << c.alg << ": " << failure_name(r.failure);
    EXPECT_EQ(r.identity.sub, "alice");
    EXPECT_EQ(r.identity.jti, "t-1");
    EXPECT_EQ(r.identity.exp, kNow + 600);
    EXPECT_EQ(r.identity.rights.subscribe, std::vector<std::string>{"chat.*"});
    EXPECT_TRUE(r.identity.rights.publish.empty());
  }
}

TEST_F(TokenVerifierTest, ExpiredAndNotYetValidWithLeewayEdges) {
  auto v = verifier({hs()}, {.leeway_s = 5});
  std::string key = keys_->path("hs.key");
  // exp: valid while now < exp + leeway.
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", claims_exp(kNow - 4))), AuthFailure::kNone);
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", claims_exp(kNow - 5))), AuthFailure::kExpired);
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", claims_exp(kNow - 3600))), AuthFailure::kExpired);
  // nbf: valid from nbf - leeway on.
  std::string nbf_ok = claims_exp(kNow + 60, ",\"nbf\":" + std::to_string(kNow + 5));
  std::string nbf_late = claims_exp(kNow + 60, ",\"nbf\":" + std::to_string(kNow + 6));
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", nbf_ok)), AuthFailure::kNone);
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", nbf_late)), AuthFailure::kNotYetValid);
  // iat in the future beyond the leeway.
  std::string iat_late = claims_exp(kNow + 60, ",\"iat\":" + std::to_string(kNow + 100));
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", iat_late)), AuthFailure::kNotYetValid);
  // A fractional NumericDate counts too.
  EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", R"({"exp":1799999990.5})")), AuthFailure::kExpired);
  auto strict = verifier({hs()}, {.leeway_s = 0});
  EXPECT_EQ(failure(strict, pyjwt_sign(key, "HS256", claims_exp(kNow))), AuthFailure::kExpired);
  EXPECT_EQ(failure(strict, pyjwt_sign(key, "HS256", claims_exp(kNow + 1))), AuthFailure::kNone);
}

TEST_F(TokenVerifierTest, ExpIsRequiredUnlessConfiguredOtherwise) {
  std::string token = pyjwt_sign(keys_->path("hs.key"), "HS256", R"({"sub":"bob"})");
  EXPECT_EQ(failure(verifier({hs()}), token), AuthFailure::kMissingExp);
  auto r = verifier({hs()}, {.require_exp = false}).verify(token, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.identity.exp, 0);
  EXPECT_EQ(failure(verifier({hs()}), pyjwt_sign(keys_->path("hs.key"), "HS256", R"({"exp":"x"})")),
            AuthFailure::kMalformed);
}

TEST_F(TokenVerifierTest, AnonymousButSignedHasEmptySub) {
  auto r = verifier({hs()}).verify(
      pyjwt_sign(keys_->path("hs.key"), "HS256", "{\"exp\":" + std::to_string(kNow + 9) + "}"),
      kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.identity.sub, "");
}

TEST_F(TokenVerifierTest, WrongKeyIsABadSignature) {
  std::string claims = claims_exp(kNow + 60);
  EXPECT_EQ(failure(verifier({hs()}), pyjwt_sign(keys_->path("hs-other.key"), "HS256", claims)),
            AuthFailure::kBadSignature);
  EXPECT_EQ(failure(verifier({rs()}), pyjwt_sign(keys_->path("rsa2.pem"), "RS256", claims)),
            AuthFailure::kBadSignature);
  EXPECT_EQ(failure(verifier({es()}), pyjwt_sign(keys_->path("ec256b.pem"), "ES256", claims)),
            AuthFailure::kBadSignature);
}

TEST_F(TokenVerifierTest, AKeyWithoutMaterialVerifiesNothing) {
  // libjwt skips the signature check when given a NULL key: a Key built without material
  // (never by load_key) must not turn into "accept anything", whatever libjwt does with an
  // empty key (1.10 refuses it too; the verifier does not rely on that).
  Key empty_hs{.kid = "e", .alg = Alg::kHS256};
  Key empty_rs{.kid = "e", .alg = Alg::kRS256};
  std::string claims = claims_exp(kNow + 60);
  EXPECT_EQ(failure(verifier({empty_hs}), hs256_by_hand("whatever", R"({"alg":"HS256"})", claims)),
            AuthFailure::kBadSignature);
  EXPECT_EQ(failure(verifier({empty_rs}), pyjwt_sign(keys_->path("rsa.pem"), "RS256", claims)),
            AuthFailure::kBadSignature);
}

TEST_F(TokenVerifierTest, TamperedPayloadIsABadSignature) {
  std::string token = pyjwt_sign(keys_->path("rsa.pem"), "RS256", claims_exp(kNow + 60));
  size_t a = token.find('.'), b = token.rfind('.');
  std::string forged = token.substr(0, a + 1) +
                       base64url_encode(R"({"sub":"root","exp":1900000000})") + token.substr(b);
  EXPECT_EQ(failure(verifier({rs()}), token), AuthFailure::kNone);
  EXPECT_EQ(failure(verifier({rs()}), forged), AuthFailure::kBadSignature);
}

TEST_F(TokenVerifierTest, AlgNoneIsRefused) {
  auto v = verifier({hs()});
  std::string claims = claims_exp(kNow + 60);
  EXPECT_EQ(failure(v, pyjwt_sign("-", "none", claims)), AuthFailure::kWrongAlg);
  std::string by_hand = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(claims);
  EXPECT_EQ(failure(v, by_hand + "."), AuthFailure::kWrongAlg);
  EXPECT_EQ(failure(v, by_hand + ".c2ln"), AuthFailure::kWrongAlg);
  std::string upper = base64url_encode(R"({"alg":"NONE"})") + "." + base64url_encode(claims);
  EXPECT_EQ(failure(v, upper + "."), AuthFailure::kWrongAlg);
}

TEST_F(TokenVerifierTest, HmacSignedWithThePublicKeyIsRefused) {
  // The classic confusion: HS256 with the RSA (or EC) public key PEM as the HMAC secret.
  std::string claims = claims_exp(kNow + 60);
  std::string rsa_forgery = hs256_by_hand(keys_->pub("rsa"), R"({"alg":"HS256"})", claims);
  EXPECT_EQ(failure(verifier({rs()}), rsa_forgery), AuthFailure::kWrongAlg);
  std::string ec_forgery = hs256_by_hand(keys_->pub("ec256"), R"({"alg":"HS256"})", claims);
  EXPECT_EQ(failure(verifier({es()}), ec_forgery), AuthFailure::kWrongAlg);
  // The same with the kid of the RSA key named, among several keys.
  std::string with_kid = hs256_by_hand(keys_->pub("rsa"), R"({"alg":"HS256","kid":"rs"})", claims);
  EXPECT_EQ(failure(verifier({hs("hs"), rs("rs")}), with_kid), AuthFailure::kWrongAlg);
}

TEST_F(TokenVerifierTest, OnlyTheKeysOwnAlgIsAccepted) {
  std::string claims = claims_exp(kNow + 60);
  // Same secret, stronger hash: still not this key's algorithm.
  EXPECT_EQ(
      failure(verifier({hs("k", "HS256")}), pyjwt_sign(keys_->path("hs.key"), "HS512", claims)),
      AuthFailure::kWrongAlg);
  EXPECT_EQ(
      failure(verifier({rs("k", "RS256")}), pyjwt_sign(keys_->path("rsa.pem"), "RS512", claims)),
      AuthFailure::kWrongAlg);
  EXPECT_EQ(failure(verifier({rs()}), pyjwt_sign(keys_->path("rsa.pem"), "PS256", claims)),
            AuthFailure::kWrongAlg);
}

TEST_F(TokenVerifierTest, KidSelectsTheKey) {
  std::string claims = claims_exp(kNow + 60);
  std::string hs_key = keys_->path("hs.key");
  auto two = verifier({hs("a"), rs("b")});
  EXPECT_EQ(failure(two, pyjwt_sign(hs_key, "HS256", claims, R"({"kid":"a"})")),
            AuthFailure::kNone);
  EXPECT_EQ(failure(two, pyjwt_sign(keys_->path("rsa.pem"), "RS256", claims, R"({"kid":"b"})")),
            AuthFailure::kNone);
  EXPECT_EQ(failure(two, pyjwt_sign(hs_key, "HS256", claims, R"({"kid":"zzz"})")),
            AuthFailure::kUnknownKid);
  EXPECT_EQ(failure(two, pyjwt_sign(hs_key, "HS256", claims)), AuthFailure::kUnknownKid);
  // One key: a token without kid uses it; a token naming another kid is still refused.
  auto one = verifier({hs("a")});
  EXPECT_EQ(failure(one, pyjwt_sign(hs_key, "HS256", claims)), AuthFailure::kNone);
  EXPECT_EQ(failure(one, pyjwt_sign(hs_key, "HS256", claims, R"({"kid":"zzz"})")),
            AuthFailure::kUnknownKid);
}

TEST_F(TokenVerifierTest, ChannelClaimsDecideClaimsPolicyChannels) {
  std::string claims = claims_exp(
      kNow + 60, R"(,"channels":{"subscribe":["chat.*","news"],"publish":["chat.lobby"]})");
  auto r = verifier({es()}).verify(pyjwt_sign(keys_->path("ec256.pem"), "ES256", claims), kNow);
  ASSERT_TRUE(r.ok());
  ChannelAccess claims_only{ChannelPolicy::kClaims, ChannelPolicy::kClaims};
  const Identity* who = &r.identity;
  EXPECT_EQ(may_subscribe(AuthMode::kOptional, who, "chat.room1", claims_only), Access::kAllowed);
  EXPECT_EQ(may_subscribe(AuthMode::kOptional, who, "news", claims_only), Access::kAllowed);
  EXPECT_EQ(may_subscribe(AuthMode::kOptional, who, "newsroom", claims_only), Access::kForbidden);
  EXPECT_EQ(may_subscribe(AuthMode::kOptional, who, "admin", claims_only), Access::kForbidden);
  EXPECT_EQ(may_publish(AuthMode::kOptional, who, "chat.lobby", claims_only), Access::kAllowed);
  EXPECT_EQ(may_publish(AuthMode::kOptional, who, "chat.room1", claims_only), Access::kForbidden);
}

TEST_F(TokenVerifierTest, BadChannelClaimsAreMalformed) {
  auto v = verifier({hs()});
  std::string key = keys_->path("hs.key");
  for (std::string bad : {R"(,"channels":["chat"])", R"(,"channels":{"subscribe":"chat"})",
                          R"(,"channels":{"publish":[1]})", R"(,"channels":{"subscribe":["a*b"]})",
                          R"(,"channels":{"subscribe":[""]})", R"(,"sub":5)"}) {
    EXPECT_EQ(failure(v, pyjwt_sign(key, "HS256", claims_exp(kNow + 60, bad))),
              AuthFailure::kMalformed)
        << bad;
  }
}

TEST_F(TokenVerifierTest, RevokedSubOrJti) {
  auto v = verifier({hs()});
  std::string token = pyjwt_sign(keys_->path("hs.key"), "HS256", claims_exp(kNow + 60));
  RevocationList by_sub, by_jti, other;
  by_sub.revoke_sub("alice");
  by_jti.revoke_jti("t-1");
  other.revoke_sub("mallory");
  other.revoke_jti("t-2");
  EXPECT_EQ(v.verify(token, kNow, &by_sub).failure, AuthFailure::kRevoked);
  EXPECT_EQ(v.verify(token, kNow, &by_jti).failure, AuthFailure::kRevoked);
  auto r = v.verify(token, kNow, &other);
  ASSERT_TRUE(r.ok());
  // At reload, an identity already connected is tested against the new list.
  EXPECT_FALSE(other.is_revoked(r.identity));
  EXPECT_TRUE(by_jti.is_revoked(r.identity));
  // Empty sub / jti never match an empty entry.
  RevocationList empty_entries;
  empty_entries.revoke_sub("");
  EXPECT_FALSE(empty_entries.is_revoked(Identity{}));
}

TEST_F(TokenVerifierTest, AudienceAndIssuer) {
  auto v = verifier({hs()}, {.audiences = {"wsrelay", "relay2"}, .issuer = "https://auth.example"});
  std::string key = keys_->path("hs.key");
  auto sign = [&](const std::string& extra) {
    return pyjwt_sign(key, "HS256", claims_exp(kNow + 60, extra));
  };
  const std::string iss = R"(,"iss":"https://auth.example")";
  EXPECT_EQ(failure(v, sign(iss + R"(,"aud":"wsrelay")")), AuthFailure::kNone);
  EXPECT_EQ(failure(v, sign(iss + R"(,"aud":["other","relay2"])")), AuthFailure::kNone);
  EXPECT_EQ(failure(v, sign(iss + R"(,"aud":"other")")), AuthFailure::kBadAudience);
  EXPECT_EQ(failure(v, sign(iss)), AuthFailure::kBadAudience);
  EXPECT_EQ(failure(v, sign(R"(,"iss":"https://evil.example","aud":"wsrelay")")),
            AuthFailure::kBadIssuer);
  EXPECT_EQ(failure(v, sign(R"(,"aud":"wsrelay")")), AuthFailure::kBadIssuer);
  // Not configured: not checked.
  EXPECT_EQ(failure(verifier({hs()}), sign(R"(,"aud":"other","iss":"x")")), AuthFailure::kNone);
}

TEST_F(TokenVerifierTest, MalformedTokens) {
  auto v = verifier({hs()});
  std::string good = pyjwt_sign(keys_->path("hs.key"), "HS256", claims_exp(kNow + 60));
  ASSERT_EQ(failure(v, good), AuthFailure::kNone);
  size_t last = good.rfind('.');
  std::string h = base64url_encode(R"({"alg":"HS256"})");
  std::string p = base64url_encode(claims_exp(kNow + 60));
  for (const std::string& bad :
       {std::string(), std::string("abc"), std::string("a.b"), good + ".x", good + "=",
        std::string("!!!.") + p + ".AAAA", base64url_encode("[1]") + "." + p + ".AAAA",
        base64url_encode(R"({"alg":5})") + "." + p + ".AAAA",
        base64url_encode(R"({"alg":"HS256","kid":7})") + "." + p + ".AAAA",
        base64url_encode(R"({"alg":"HS256","crit":["exp"]})") + "." + p + ".AAAA",
        h + ".not json." + "AAAA", std::string(kMaxTokenSize + 1, 'a')}) {
    EXPECT_EQ(failure(v, bad), AuthFailure::kMalformed) << bad;
  }
  // The signature's last character with non-zero unused bits: another spelling of the same
  // bytes, refused rather than accepted twice.
  std::string respelled = good;
  char& c = respelled.back();
  c = c == 'A' ? 'B'
               : (c == 'Q'   ? 'R'
                  : c == 'g' ? 'h'
                  : c == 'w' ? 'x'
                             : static_cast<char>(c ^ 1));
  EXPECT_NE(failure(v, respelled), AuthFailure::kNone);
  EXPECT_EQ(failure(v, good.substr(0, last + 1)), AuthFailure::kBadSignature);  // empty signature
}

}  // namespace
}  // namespace relay::auth
