// SPDX-License-Identifier: MIT
// Encoding and checking the bench payload (payload.h). Table-driven hex, no allocation.
#include "payload.h"

#include <array>
#include <cstring>
#include <string>

namespace relay::bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";

constexpr std::array<uint8_t, 256> make_unhex() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xFF;
  for (int i = 0; i < 10; ++i) t['0' + i] = uint8_t(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = uint8_t(10 + i);
  return t;
}
constexpr std::array<uint8_t, 256> kUnhex = make_unhex();

void put_hex(char* out, uint64_t v, int digits) noexcept {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 15];
    v >>= 4;
  }
}

bool get_hex(const char* in, int digits, uint64_t* v) noexcept {
  uint64_t r = 0;
  uint8_t bad = 0;
  for (int i = 0; i < digits; ++i) {
    const uint8_t d = kUnhex[uint8_t(in[i])];
    bad |= d;  // 0xFF has bit 7 set; digits never do
    r = (r << 4) | (d & 15);
  }
  *v = r;
  return (bad & 0x80) == 0;
}

// "abc...zabc...": the filler of sequence number s is kFiller + s % 26, so encoding
// is one memcpy and checking one memcmp.
const char* filler() noexcept {
  static const std::string f = [] {
    std::string s(kMaxPayload + 26, 'a');
    for (size_t i = 0; i < s.size(); ++i) s[i] = char('a' + i % 26);
    return s;
  }();
  return f.data();
}

}  // namespace

bool parse_type_mode(std::string_view s, TypeMode* out) noexcept {
  if (s == "binary")
    *out = TypeMode::kBinary;
  else if (s == "text")
    *out = TypeMode::kText;
  else if (s == "mixed")
    *out = TypeMode::kMixed;
  else
    return false;
  return true;
}

const char* type_mode_name(TypeMode m) noexcept {
  switch (m) {
    case TypeMode::kBinary:
      return "binary";
    case TypeMode::kText:
      return "text";
    case TypeMode::kMixed:
      return "mixed";
  }
  return "?";
}

void encode_payload(char* out, size_t size, const MessageId& id) noexcept {
  put_hex(out, uint64_t(id.sent_ns), 16);
  put_hex(out + 16, id.publisher, 8);
  put_hex(out + 24, id.seq, 8);
  std::memcpy(out + kMinPayload, filler() + id.seq % 26, size - kMinPayload);
}

bool decode_payload(const char* in, size_t size, size_t expected_size, MessageId* id) noexcept {
  if (size != expected_size || size < kMinPayload) return false;
  uint64_t ts = 0, pub = 0, seq = 0;
  if (!get_hex(in, 16, &ts) || !get_hex(in + 16, 8, &pub) || !get_hex(in + 24, 8, &seq))
    return false;
  if (std::memcmp(in + kMinPayload, filler() + seq % 26, size - kMinPayload) != 0) return false;
  id->sent_ns = int64_t(ts);
  id->publisher = uint32_t(pub);
  id->seq = uint32_t(seq);
  return true;
}

}  // namespace relay::bench
