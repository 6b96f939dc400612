// SPDX-License-Identifier: MIT
#include "upgrade_token.h"

#include "ws/http_text.h"

namespace relay::daemon {
namespace {

constexpr std::string_view kBearerProtocol = "bearer.";

using ws::http_text::trim;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query values are percent-decoded ('+' stays '+': JWTs never contain one).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string from_query(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos)
    query = query.substr(0, hash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    if (eq != std::string_view::npos && (name == "token" || name == "access_token")) {
      std::string value = percent_decode(pair.substr(eq + 1));
      if (!value.empty()) return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string from_cookie(std::string_view header, std::string_view name) {
  if (name.empty()) return {};
  while (!header.empty()) {
    const size_t semi = header.find(';');
    const std::string_view pair = trim(header.substr(0, semi));
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (!value.empty()) return std::string(value);
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace

UpgradeToken find_upgrade_token(std::string_view target, std::string_view authorization,
                                std::string_view protocols, std::string_view cookie_header,
                                std::string_view cookie_name) {
  UpgradeToken out;
  std::string from_protocol;
  // The offer without bearer entries: the 101 never echoes the token back.
  while (!protocols.empty()) {
    const size_t comma = protocols.find(',');
    const std::string_view entry = trim(protocols.substr(0, comma));
    if (entry.starts_with(kBearerProtocol)) {
      if (from_protocol.empty()) from_protocol = entry.substr(kBearerProtocol.size());
    } else if (!entry.empty()) {
      if (!out.protocols.empty()) out.protocols.append(", ");
      out.protocols.append(entry);
    }
    if (comma == std::string_view::npos) break;
    protocols.remove_prefix(comma + 1);
  }
  const std::string_view auth = trim(authorization);
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer "))
    out.token = std::string(trim(auth.substr(7)));
  if (out.token.empty()) out.token = from_query(target);
  if (out.token.empty()) out.token = std::move(from_protocol);
  if (out.token.empty()) out.token = from_cookie(cookie_header, cookie_name);
  return out;
}

}  // namespace relay::daemon
