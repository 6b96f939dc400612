// SPDX-License-Identifier: MIT
#include "auth/key.h"

#include <gtest/gtest.h>

#include <memory>

#include "key_fixture.h"

namespace relay::auth {
namespace {

using test::KeyDir;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

class KeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = std::make_unique<KeyDir>();
    keys_->make_rsa("rsa");
    keys_->make_ec("ec256", "P-256");
    keys_->make_ec("ec384", "P-384");
    keys_->genpkey("ed", "-algorithm ED25519");
    test::write_text(keys_->path("hs.key"), kSecret + "\n");
  }
  static void TearDownTestSuite() { keys_.reset(); }

  static std::optional<Key> load(const KeySpec& spec, const char* creds = nullptr) {
    error_.clear();
    return load_key(spec, creds, &error_);
  }

  static std::unique_ptr<KeyDir> keys_;
  static std::string error_;
};
std::unique_ptr<KeyDir> KeyTest::keys_;
std::string KeyTest::error_;

TEST_F(KeyTest, AlgNames) {
  EXPECT_EQ(alg_from_name("ES384"), Alg::kES384);
  EXPECT_EQ(alg_name(Alg::kRS512), "RS512");
  EXPECT_FALSE(alg_from_name("none"));
  EXPECT_FALSE(alg_from_name("hs256"));
  EXPECT_FALSE(alg_from_name("EdDSA"));
  EXPECT_TRUE(is_hmac(Alg::kHS384));
  EXPECT_FALSE(is_hmac(Alg::kES256));
}

TEST_F(KeyTest, HmacSecretInlineOrFromFile) {
  auto inline_key = load({.kid = "a", .alg = "HS256", .secret = kSecret});
  ASSERT_TRUE(inline_key) << error_;
  EXPECT_EQ(inline_key->secret, kSecret);
  auto file_key = load({.kid = "b", .alg = "HS512", .file = keys_->path("hs.key")});
  ASSERT_TRUE(file_key) << error_;
  EXPECT_EQ(file_key->secret, kSecret);  // the trailing newline is not part of the secret
  EXPECT_FALSE(load({.kid = "c", .alg = "HS256", .secret = "short"}));
  EXPECT_NE(error_.find("32 bytes"), std::string::npos);
}

TEST_F(KeyTest, CredentialFilesComeFromCredentialsDirectory) {
  auto key = load({.kid = "a", .alg = "HS256", .file = "credential:hs.key"}, keys_->dir().c_str());
  ASSERT_TRUE(key) << error_;
  EXPECT_EQ(key->secret, kSecret);
  EXPECT_FALSE(load({.kid = "a", .alg = "HS256", .file = "credential:hs.key"}, nullptr));
  EXPECT_NE(error_.find("CREDENTIALS_DIRECTORY"), std::string::npos);
  EXPECT_FALSE(load({.kid = "a", .alg = "HS256", .file = "credential:../hs.key"}, "/tmp"));
  EXPECT_FALSE(load({.kid = "a", .alg = "HS256", .file = "credential:"}, "/tmp"));
  std::string err;
  EXPECT_EQ(resolve_key_file("credential:jwt-key", "/run/credentials/wsrelay.service", &err),
            "/run/credentials/wsrelay.service/jwt-key");
  EXPECT_EQ(resolve_key_file("/etc/wsrelay/jwt.pem", nullptr, &err), "/etc/wsrelay/jwt.pem");
}

TEST_F(KeyTest, PublicOrPrivatePem) {
  auto pub = load({.kid = "r", .alg = "RS256", .pem = keys_->pub("rsa")});
  ASSERT_TRUE(pub) << error_;
  EXPECT_TRUE(pub->private_pem.empty());
  EXPECT_NE(pub->public_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  auto priv = load({.kid = "r", .alg = "RS384", .file = keys_->path("rsa.pem")});
  ASSERT_TRUE(priv) << error_;
  EXPECT_FALSE(priv->private_pem.empty());
  EXPECT_EQ(priv->public_pem, pub->public_pem);  // derived from the private key
  EXPECT_TRUE(load({.kid = "e", .alg = "ES256", .pem = keys_->pub("ec256")}));
  EXPECT_TRUE(load({.kid = "e", .alg = "ES384", .file = keys_->path("ec384.pem")}));
}

TEST_F(KeyTest, KeyTypeMustFitTheAlg) {
  EXPECT_FALSE(load({.kid = "x", .alg = "RS256", .pem = keys_->pub("ec256")}));
  EXPECT_NE(error_.find("does not fit"), std::string::npos);
  EXPECT_FALSE(load({.kid = "x", .alg = "ES256", .pem = keys_->pub("rsa")}));
  EXPECT_FALSE(load({.kid = "x", .alg = "ES256", .pem = keys_->pub("ec384")}));  // wrong curve
  EXPECT_FALSE(load({.kid = "x", .alg = "ES384", .pem = keys_->pub("ec256")}));
  EXPECT_FALSE(load({.kid = "x", .alg = "ES256", .pem = keys_->pub("ed")}));
  EXPECT_FALSE(load({.kid = "x", .alg = "RS256", .pem = "not a pem"}));
  EXPECT_FALSE(load({.kid = "x", .alg = "none", .secret = kSecret}));
  EXPECT_NE(error_.find("unsupported alg"), std::string::npos);
}

TEST_F(KeyTest, ExactlyOneSourceOfMaterial) {
  EXPECT_FALSE(load({.kid = "x", .alg = "HS256"}));
  EXPECT_FALSE(
      load({.kid = "x", .alg = "HS256", .secret = kSecret, .file = keys_->path("hs.key")}));
  EXPECT_FALSE(load({.kid = "x", .alg = "HS256", .pem = kSecret}));
  EXPECT_FALSE(load({.kid = "x", .alg = "RS256", .secret = kSecret}));
  EXPECT_FALSE(load({.kid = "x", .alg = "HS256", .file = keys_->path("missing")}));
  EXPECT_NE(error_.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace relay::auth
