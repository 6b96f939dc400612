// SPDX-License-Identifier: MIT
// Channel names: 1..200 bytes of [A-Za-z0-9._:/-]. The registry asserts this on
// subscribe, so the daemon checks names from clients here first and answers with an
// error instead. The set leaves '*', '?', '[' and '>' free for future patterns.
#pragma once

#include <cstddef>
#include <string_view>

namespace relay::pubsub {

inline constexpr size_t kMaxChannelName = 200;  // bytes

constexpr bool is_channel_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

constexpr bool is_valid_channel_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxChannelName) return false;
  for (char c : name)
    if (!is_channel_name_char(c)) return false;
  return true;
}

}  // namespace relay::pubsub
