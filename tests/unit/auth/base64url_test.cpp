// SPDX-License-Identifier: MIT
#include "auth/base64url.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

TEST(Base64urlTest, RoundTrip) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10 binary"})
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
}

TEST(Base64urlTest, StrictDecode) {
  EXPECT_FALSE(base64url_decode("Zg=="));   // no padding
  EXPECT_FALSE(base64url_decode("Z"));      // 4n+1 characters
  EXPECT_FALSE(base64url_decode("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(base64url_decode("Zh"));     // unused bits set: "Zg" is the only spelling
  EXPECT_FALSE(base64url_decode("Zm9"));
  EXPECT_TRUE(base64url_decode("Zm8"));
}

}  // namespace
}  // namespace relay::auth
