// SPDX-License-Identifier: MIT
// sha1(): the RFC 3174 / FIPS 180 test vectors, every tail length around the block and
// padding boundaries (against OpenSSL's SHA-1), and the RFC 6455 §1.3 accept key input.
#include "base/sha1.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>

namespace relay {
namespace {

std::string hex_of(const std::string& s) {
  uint8_t d[kSha1Bytes];
  sha1(std::as_bytes(std::span(s.data(), s.size())), d);
  std::string out;
  for (uint8_t b : d) {
    static const char* kHex = "0123456789abcdef";
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

TEST(Sha1, Rfc3174Vectors) {
  EXPECT_EQ(hex_of(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex_of("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex_of(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, EveryLengthMatchesOpenSsl) {
  std::string s;
  for (int len = 0; len < 200; ++len) {
    uint8_t want[EVP_MAX_MD_SIZE];
    unsigned int want_len = 0;
    ASSERT_EQ(EVP_Digest(s.data(), s.size(), want, &want_len, EVP_sha1(), nullptr), 1);
    ASSERT_EQ(want_len, kSha1Bytes);
    uint8_t got[kSha1Bytes];
    sha1(std::as_bytes(std::span(s.data(), s.size())), got);
    EXPECT_EQ(std::memcmp(got, want, kSha1Bytes), 0) << "length " << len;
    s.push_back(char('a' + len % 26));
  }
}

TEST(Sha1, WebSocketAcceptInput) {
  // RFC 6455 §1.3: base64 of this digest is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
  EXPECT_EQ(hex_of("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
            "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
}

}  // namespace
}  // namespace relay
