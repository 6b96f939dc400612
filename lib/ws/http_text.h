// SPDX-License-Identifier: MIT
// ASCII helpers for HTTP header text (RFC 9110), shared by the handshake and the
// permessage-deflate offer parser: header names and tokens compare case-insensitively,
// OWS is spaces and tabs.
#pragma once

#include <cstddef>
#include <string_view>

namespace relay::ws::http_text {

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace relay::ws::http_text
