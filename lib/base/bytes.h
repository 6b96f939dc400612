// SPDX-License-Identifier: MIT
// Views of text as bytes, the one conversion every layer needs (payloads are bytes,
// literals and JSON are text). No copy.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace relay {

inline std::span<const std::byte> as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline std::string_view as_text(std::span<const std::byte> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace relay
