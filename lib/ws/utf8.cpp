// UTF-8 validation (RFC 3629 §4) as a table-driven DFA that rejects at the first byte
// that cannot continue valid UTF-8 (overlongs, surrogates, > U+10FFFF), so a text
// message fails fast (RFC 6455 §8.1). Runs of ASCII are skipped 8 bytes at a time.
// Pure computation: no allocation, no syscalls.
#include "ws/utf8.h"

#include <array>
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
  kClasses
};

// States (stored premultiplied by kClasses so a step is one add and one load).
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

struct Tables {
  std::array<uint8_t, 256> cls{};
  std::array<uint8_t, size_t{kStates} * kClasses> next{};
};

constexpr Tables make_tables() {
  Tables t{};
  for (int b = 0; b < 256; ++b) {
    uint8_t c = kInvalid;
    if (b <= 0x7F) c = kAscii;
    else if (b <= 0x8F) c = kCont1;
    else if (b <= 0x9F) c = kCont2;
    else if (b <= 0xBF) c = kCont3;
    else if (b <= 0xC1) c = kInvalid;
    else if (b <= 0xDF) c = kLead2;
    else if (b == 0xE0) c = kE0;
    else if (b == 0xED) c = kED;
    else if (b <= 0xEF) c = kLead3;
    else if (b == 0xF0) c = kF0;
    else if (b <= 0xF3) c = kLead4;
    else if (b == 0xF4) c = kF4;
    t.cls[b] = c;
  }
  auto set = [&t](uint8_t from, uint8_t c, uint8_t to) {
    t.next[from * kClasses + c] = static_cast<uint8_t>(to * kClasses);
  };
  for (uint8_t s = 0; s < kStates; ++s)
    for (uint8_t c = 0; c < kClasses; ++c) set(s, c, kReject);
  set(kAccept, kAscii, kAccept);
  set(kAccept, kLead2, kNeed1);
  set(kAccept, kE0, kAfterE0);
  set(kAccept, kLead3, kNeed2);
  set(kAccept, kED, kAfterED);
  set(kAccept, kF0, kAfterF0);
  set(kAccept, kLead4, kNeed3);
  set(kAccept, kF4, kAfterF4);
  for (uint8_t c : {kCont1, kCont2, kCont3}) {
    set(kNeed1, c, kAccept);
    set(kNeed2, c, kNeed1);
    set(kNeed3, c, kNeed2);
  }
  set(kAfterE0, kCont3, kNeed1);
  set(kAfterED, kCont1, kNeed1);
  set(kAfterED, kCont2, kNeed1);
  set(kAfterF0, kCont2, kNeed2);
  set(kAfterF0, kCont3, kNeed2);
  set(kAfterF4, kCont1, kNeed2);
  return t;
}

constexpr Tables kTables = make_tables();
constexpr uint32_t kRejectState = uint32_t{kReject} * kClasses;
static_assert(kAccept == 0, "Utf8Validator::complete() relies on accept == 0");

inline uint64_t load64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Runs the DFA from `state` over [p, end); returns the final state (kRejectState on
// the first impossible byte).
uint32_t run(uint32_t state, const uint8_t* p, const uint8_t* end) noexcept {
  while (p < end) {
    if (state == 0) {
      // Fast path between characters: skip ASCII 32 bytes, then 8 bytes, at a time.
      while (end - p >= 32 &&
             ((load64(p) | load64(p + 8) | load64(p + 16) | load64(p + 24)) & kHighBits) == 0)
        p += 32;
      while (end - p >= 8 && (load64(p) & kHighBits) == 0) p += 8;
      while (p < end && *p < 0x80) ++p;
      if (p == end) break;
    }
    state = kTables.next[state + kTables.cls[*p++]];
    if (state == kRejectState) return state;
  }
  return state;
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
