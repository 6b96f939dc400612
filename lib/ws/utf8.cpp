// SPDX-License-Identifier: MIT
// UTF-8 validation (RFC 3629 §4) as a shift-based DFA that rejects at the first byte
// that cannot continue valid UTF-8 (overlongs, surrogates, > U+10FFFF), so a text
// message fails fast (RFC 6455 §8.1). Runs of ASCII are skipped 8 bytes at a time.
// Pure computation: no allocation, no syscalls.
#include "ws/utf8.h"

#include <cstring>

namespace relay::ws {

namespace {

// Byte classes.
enum : uint8_t {
  kAscii,    // 00..7F
  kCont1,    // 80..8F  continuation
  kCont2,    // 90..9F  continuation
  kCont3,    // A0..BF  continuation
  kInvalid,  // C0 C1 F5..FF never appear (C0/C1 would be overlong)
  kLead2,    // C2..DF
  kE0,       // E0: next must be A0..BF (else overlong)
  kLead3,    // E1..EC, EE..EF
  kED,       // ED: next must be 80..9F (else a UTF-16 surrogate)
  kF0,       // F0: next must be 90..BF (else overlong)
  kLead4,    // F1..F3
  kF4,       // F4: next must be 80..8F (else > U+10FFFF)
};

// States. In the table each is a bit offset (state * 6) into a 64-bit row, so a step is
// `state = row[byte] >> state & 63`: the row load does not depend on the state, which
// keeps the per-byte dependency chain to one shift (a "shift-based DFA").
enum : uint8_t {
  kAccept,   // between characters
  kReject,   // sticky
  kNeed1,    // one continuation byte left
  kNeed2,    // two left
  kNeed3,    // three left
  kAfterE0,  // E0 seen
  kAfterED,  // ED seen
  kAfterF0,  // F0 seen
  kAfterF4,  // F4 seen
  kStates
};
constexpr int kBits = 6;
static_assert(kStates * kBits <= 64);

constexpr uint8_t byte_class(int b) {
  if (b <= 0x7F) return kAscii;
  if (b <= 0x8F) return kCont1;
  if (b <= 0x9F) return kCont2;
  if (b <= 0xBF) return kCont3;
  if (b <= 0xC1) return kInvalid;
  if (b <= 0xDF) return kLead2;
  if (b == 0xE0) return kE0;
  if (b == 0xED) return kED;
  if (b <= 0xEF) return kLead3;
  if (b == 0xF0) return kF0;
  if (b <= 0xF3) return kLead4;
  if (b == 0xF4) return kF4;
  return kInvalid;
}

// RFC 3629 §4 as transitions: the state after a byte of class `c` in state `s`.
constexpr uint8_t next_state(uint8_t s, uint8_t c) {
  const bool cont = c == kCont1 || c == kCont2 || c == kCont3;
  switch (s) {
    case kAccept:
      switch (c) {
        case kAscii:
          return kAccept;
        case kLead2:
          return kNeed1;
        case kE0:
          return kAfterE0;
        case kLead3:
          return kNeed2;
        case kED:
          return kAfterED;
        case kF0:
          return kAfterF0;
        case kLead4:
          return kNeed3;
        case kF4:
          return kAfterF4;
        default:
          return kReject;
      }
    case kNeed1:
      return cont ? kAccept : kReject;
    case kNeed2:
      return cont ? kNeed1 : kReject;
    case kNeed3:
      return cont ? kNeed2 : kReject;
    case kAfterE0:
      return c == kCont3 ? kNeed1 : kReject;  // no overlongs
    case kAfterED:
      return c == kCont1 || c == kCont2 ? kNeed1 : kReject;  // no surrogates
    case kAfterF0:
      return c == kCont2 || c == kCont3 ? kNeed2 : kReject;  // no overlongs
    case kAfterF4:
      return c == kCont1 ? kNeed2 : kReject;  // <= U+10FFFF
    default:
      return kReject;
  }
}

struct Table {
  uint64_t row[256];
};

constexpr Table make_table() {
  Table t{};
  for (int b = 0; b < 256; ++b) {
    uint64_t row = 0;
    for (uint8_t s = 0; s < kStates; ++s)
      row |= uint64_t{next_state(s, byte_class(b))} * kBits << (s * kBits);
    t.row[b] = row;
  }
  return t;
}

constexpr Table kTable = make_table();
constexpr uint32_t kRejectState = uint32_t{kReject} * kBits;
static_assert(kAccept == 0, "Utf8Validator::complete() relies on accept == 0");

inline uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Runs the DFA from `state` over [p, end); returns the final state (kRejectState from
// the first impossible byte on).
uint32_t run(uint32_t state, const uint8_t* p, const uint8_t* end) noexcept {
  // `st` keeps the whole shifted row; only its low 6 bits are the state. Masking the
  // shift count with 63 is free on x86-64 (the shift instruction does it), so the chain
  // from one byte to the next is a single shift.
  uint64_t st = state;
  while (p < end) {
    if ((st & 63) == 0 && *p < 0x80) {
      // Between characters at an ASCII byte: skip ASCII 32, then 8 bytes at a time.
      while (end - p >= 32 &&
             ((load64(p) | load64(p + 8) | load64(p + 16) | load64(p + 24)) & kHighBits) == 0)
        p += 32;
      while (end - p >= 8 && (load64(p) & kHighBits) == 0) p += 8;
      while (p < end && *p < 0x80) ++p;
      if (p == end) break;
    }
    st = kTable.row[*p++] >> (st & 63);
    if ((st & 63) == kRejectState) return kRejectState;
  }
  return static_cast<uint32_t>(st & 63);
}

}  // namespace

bool Utf8Validator::feed(std::span<const std::byte> bytes) noexcept {
  if (state_ == kRejectState) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  state_ = run(state_, p, p + bytes.size());
  return state_ != kRejectState;
}

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return run(0, p, p + bytes.size()) == 0;
}

}  // namespace relay::ws
