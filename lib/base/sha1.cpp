// SPDX-License-Identifier: MIT
// SHA-1 as RFC 3174 §6.1 gives it: 512-bit blocks, 80 rounds, big-endian words.
#include "base/sha1.h"

#include <cstring>

namespace relay {
namespace {

uint32_t rotl(uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }

void block(uint32_t h[5], const uint8_t* p) noexcept {
  uint32_t w[80];
  for (int i = 0; i < 16; ++i)
    w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 |
           uint32_t(p[4 * i + 3]);
  for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    const uint32_t t = rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace

void sha1(std::span<const std::byte> in, uint8_t out[kSha1Bytes]) noexcept {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  size_t n = in.size();
  const uint64_t bits = uint64_t(n) * 8;
  for (; n >= 64; n -= 64, p += 64) block(h, p);
  // The tail, a 0x80 byte, zeros, and the length in bits (big-endian): one or two blocks.
  uint8_t last[128] = {};
  std::memcpy(last, p, n);
  last[n] = 0x80;
  const size_t len = n + 9 <= 64 ? 64 : 128;
  for (int i = 0; i < 8; ++i) last[len - 1 - i] = uint8_t(bits >> (8 * i));
  block(h, last);
  if (len == 128) block(h, last + 64);
  for (int i = 0; i < 5; ++i) {
    out[4 * i] = uint8_t(h[i] >> 24);
    out[4 * i + 1] = uint8_t(h[i] >> 16);
    out[4 * i + 2] = uint8_t(h[i] >> 8);
    out[4 * i + 3] = uint8_t(h[i]);
  }
}

}  // namespace relay
