// SPDX-License-Identifier: MIT
// The bench message: every payload says who sent it, when, and its place in the
// sender's sequence, so each delivery is checked (lost, duplicated, reordered, re-typed,
// corrupted, delivered to the wrong channel). It is ASCII, so it is valid as a text
// message too:
//   [0,16)  send time, monotonic ns, 16 hex digits
//   [16,24) publisher id, 8 hex digits
//   [24,32) sequence number, 8 hex digits (per publisher, from 0)
//   [32,n)  filler 'a' + (seq + i) % 26, so a corrupted byte is noticed
// Whether a message is text or binary follows from its sequence number (TypeMode).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace relay::bench {

inline constexpr size_t kMinPayload = 32;
inline constexpr size_t kMaxPayload = 64 * 1024;

enum class TypeMode : uint8_t { kBinary, kText, kMixed };  // kMixed: odd seq = text

inline bool is_text(TypeMode mode, uint32_t seq) noexcept {
  return mode == TypeMode::kText || (mode == TypeMode::kMixed && (seq & 1) != 0);
}
bool parse_type_mode(std::string_view s, TypeMode* out) noexcept;
const char* type_mode_name(TypeMode m) noexcept;

struct MessageId {
  int64_t sent_ns = 0;
  uint32_t publisher = 0;
  uint32_t seq = 0;
};

// Writes a payload of `size` (>= kMinPayload) bytes to out.
void encode_payload(char* out, size_t size, const MessageId& id) noexcept;
// Decodes and checks a payload; false when it is not one encode_payload() wrote
// (wrong length included: every message of a run has the same size).
bool decode_payload(const char* in, size_t size, size_t expected_size, MessageId* id) noexcept;

}  // namespace relay::bench
