// SPDX-License-Identifier: MIT
// UTF-8 validation (lib/ws/utf8.cpp): the DFA against a straightforward reference
// decoder, exhaustive for short sequences; fail-fast positions; splits at every byte.
#include "ws/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace relay::ws {
namespace {

using test::bytes;
using test::hex;

// Reference (RFC 3629 §4): decode scalar values one by one, rejecting overlongs,
// surrogates and values above U+10FFFF. Simple and slow on purpose.
bool reference_valid(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool valid(const std::string& s) { return is_valid_utf8(bytes(s)); }

TEST(Utf8, AcceptsBoundaryScalarValues) {
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("Hello-µ@ßöäüàá-UTF-8!!"));
  EXPECT_TRUE(valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));  // κόσμε
  EXPECT_TRUE(valid(hex({0x00})));
  EXPECT_TRUE(valid(hex({0x7F})));
  EXPECT_TRUE(valid(hex({0xC2, 0x80})));              // U+0080
  EXPECT_TRUE(valid(hex({0xDF, 0xBF})));              // U+07FF
  EXPECT_TRUE(valid(hex({0xE0, 0xA0, 0x80})));        // U+0800
  EXPECT_TRUE(valid(hex({0xED, 0x9F, 0xBF})));        // U+D7FF
  EXPECT_TRUE(valid(hex({0xEE, 0x80, 0x80})));        // U+E000
  EXPECT_TRUE(valid(hex({0xEF, 0xBB, 0xBF})));        // U+FEFF
  EXPECT_TRUE(valid(hex({0xEF, 0xBF, 0xBF})));        // U+FFFF
  EXPECT_TRUE(valid(hex({0xF0, 0x90, 0x80, 0x80})));  // U+10000
  EXPECT_TRUE(valid(hex({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF
}

TEST(Utf8, RejectsOverlongsSurrogatesAndOutOfRange) {
  EXPECT_FALSE(valid(hex({0x80})));  // lone continuation
  EXPECT_FALSE(valid(hex({0xBF})));
  EXPECT_FALSE(valid(hex({0xC0, 0x80})));                          // overlong NUL
  EXPECT_FALSE(valid(hex({0xC1, 0xBF})));                          // overlong U+007F
  EXPECT_FALSE(valid(hex({0xE0, 0x80, 0x80})));                    // overlong
  EXPECT_FALSE(valid(hex({0xE0, 0x9F, 0xBF})));                    // overlong U+07FF
  EXPECT_FALSE(valid(hex({0xF0, 0x80, 0x80, 0x80})));              // overlong
  EXPECT_FALSE(valid(hex({0xF0, 0x8F, 0xBF, 0xBF})));              // overlong U+FFFF
  EXPECT_FALSE(valid(hex({0xED, 0xA0, 0x80})));                    // U+D800
  EXPECT_FALSE(valid(hex({0xED, 0xBF, 0xBF})));                    // U+DFFF
  EXPECT_FALSE(valid(hex({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80})));  // surrogate pair
  EXPECT_FALSE(valid(hex({0xF4, 0x90, 0x80, 0x80})));              // U+110000
  EXPECT_FALSE(valid(hex({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(valid(hex({0xFE})));
  EXPECT_FALSE(valid(hex({0xFF})));
  EXPECT_FALSE(valid(hex({0xC2})));  // truncated
  EXPECT_FALSE(valid(hex({0xE2, 0x82})));
  EXPECT_FALSE(valid(hex({0xF0, 0x9F, 0x98})));
  EXPECT_FALSE(valid(hex({0xC2, 0x41})));  // continuation missing
}

TEST(Utf8, MatchesReferenceOnAllOneAndTwoByteStrings) {
  for (int a = 0; a < 256; ++a) {
    std::string s1(1, static_cast<char>(a));
    ASSERT_EQ(valid(s1), reference_valid(s1)) << a;
    for (int b = 0; b < 256; ++b) {
      std::string s2{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(valid(s2), reference_valid(s2)) << a << " " << b;
    }
  }
}

TEST(Utf8, MatchesReferenceOnAllThreeByteStringsWithNonAsciiLead) {
  for (int a = 0xC0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c = 0; c < 256; ++c) {
        std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        ASSERT_EQ(valid(s), reference_valid(s)) << a << " " << b << " " << c;
      }
}

TEST(Utf8, MatchesReferenceOnFourByteLeadsWithBoundaryContinuations) {
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xF0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c : edges)
        for (int d : edges) {
          std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                        static_cast<char>(d)};
          ASSERT_EQ(valid(s), reference_valid(s)) << a << " " << b << " " << c << " " << d;
        }
}

// Where a byte-at-a-time validator first says no: the fail-fast position that lets a
// text message be refused before it is complete (RFC 6455 §8.1).
size_t reject_position(const std::string& s) {
  Utf8Validator v;
  for (size_t i = 0; i < s.size(); ++i)
    if (!v.feed(bytes(s.substr(i, 1)))) return i;
  return std::string::npos;
}

TEST(Utf8, FailsFastAtTheFirstImpossibleByte) {
  const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  EXPECT_EQ(reject_position(kosme + hex({0xED, 0xA0, 0x80}) + "edited"), kosme.size() + 1);
  EXPECT_EQ(reject_position(kosme + hex({0xF4, 0x90, 0x80, 0x80})), kosme.size() + 1);
  EXPECT_EQ(reject_position(kosme + hex({0xE0, 0x80})), kosme.size() + 1);
  EXPECT_EQ(reject_position(kosme + hex({0xC0})), kosme.size());
  EXPECT_EQ(reject_position("abc" + hex({0xFF}) + "def"), 3u);
  EXPECT_EQ(reject_position(kosme), std::string::npos);
}

TEST(Utf8, IncrementalEqualsOneShotAtEverySplit) {
  const std::vector<std::string> inputs = {
      "plain ascii that is long enough for the eight byte fast path to kick in",
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 and \xf0\x9f\x98\x80 mixed with ascii text",
      "ascii ascii ascii ascii ascii ascii " + hex({0xED, 0xA0, 0x80}) + " tail",
      std::string(40, 'a') + hex({0xF0, 0x9F, 0x98}),  // truncated at the end
  };
  for (const std::string& s : inputs) {
    const bool whole = valid(s);
    for (size_t k = 0; k <= s.size(); ++k) {
      Utf8Validator v;
      bool ok = v.feed(bytes(s.substr(0, k))) && v.feed(bytes(s.substr(k)));
      EXPECT_EQ(ok && v.complete(), whole) << "split at " << k;
    }
    Utf8Validator v;
    bool ok = true;
    for (char c : s) ok = ok && v.feed(bytes(std::string(1, c)));
    EXPECT_EQ(ok && v.complete(), whole);
  }
}

TEST(Utf8, CompleteOnlyBetweenCharactersAndResetClears) {
  Utf8Validator v;
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed(bytes(hex({0xF0, 0x9F}))));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed(bytes(hex({0x98, 0x80}))));
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(v.feed(bytes(hex({0xFF}))));
  EXPECT_FALSE(v.feed(bytes("a")));  // rejection is sticky
  v.reset();
  EXPECT_TRUE(v.feed(bytes("a")));
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, AsciiFastPathSeesABadByteAtEveryPosition) {
  for (size_t len : {7u, 8u, 9u, 31u, 32u, 33u, 100u}) {
    for (size_t pos = 0; pos < len; ++pos) {
      std::string s(len, 'a');
      s[pos] = static_cast<char>(0x80);
      EXPECT_FALSE(valid(s)) << len << " " << pos;
      std::string t(len, 'a');
      t.insert(pos, "\xc3\xa9");  // a valid é at every offset
      EXPECT_TRUE(valid(t)) << len << " " << pos;
    }
  }
}

}  // namespace
}  // namespace relay::ws
