// SPDX-License-Identifier: MIT
// Incremental UTF-8 validation (RFC 3629), resumable across fragment boundaries, as a
// text message split into frames must be checked as a whole (RFC 6455 §8.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace relay::ws {

class Utf8Validator {
 public:
  // Feeds bytes; false as soon as they cannot be (the start of) valid UTF-8.
  bool feed(std::span<const std::byte> bytes) noexcept;
  // True when everything fed so far is complete, valid UTF-8 (no sequence cut off).
  bool complete() const noexcept { return state_ == 0; }
  void reset() noexcept { state_ = 0; }

 private:
  uint32_t state_ = 0;  // DFA state; 0 = accept
};

// One-shot check of a whole buffer.
bool is_valid_utf8(std::span<const std::byte> bytes) noexcept;

}  // namespace relay::ws
