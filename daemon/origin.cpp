// SPDX-License-Identifier: MIT
#include "origin.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "auth/client_ip.h"
#include "ws/http_text.h"

namespace relay::daemon {
namespace {

using ws::http_text::iequals;

// "host" or "host:port" with the port made explicit (default for the scheme).
std::string with_port(std::string_view hostport, std::string_view default_port) {
  // An IPv6 literal "[::1]" has colons inside the brackets.
  size_t close = hostport.rfind(']');
  size_t colon = hostport.rfind(':');
  bool has_port =
      colon != std::string_view::npos && (close == std::string_view::npos || colon > close);
  std::string out(hostport);
  if (!has_port) out.append(":").append(default_port);
  return out;
}

// "localhost", "127.0.0.1", "[::1]" (any port): names that cannot be rebound to us by DNS.
bool is_loopback_authority(std::string_view authority) {
  std::string_view host = authority;
  if (host.starts_with("[")) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;  // "[localhost": not an address
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (iequals(host, "localhost")) return true;
  auto ip = auth::parse_ip(host);
  if (!ip) return false;
  if (!ip->v6) return ip->bytes[0] == 127;
  static constexpr std::array<uint8_t, 16> kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
  return ip->bytes == kV6Loopback;
}

}  // namespace

bool is_origin_allowed(std::string_view origin, std::string_view host,
                       const std::optional<std::vector<std::string>>& allowed,
                       const std::optional<std::vector<std::string>>& public_origins) {
  if (origin.empty()) return true;  // not a browser: Origin is a browser's promise
  if (iequals(origin, "null")) return false;
  if (allowed) {
    return std::any_of(allowed->begin(), allowed->end(),
                       [&](const std::string& a) { return a == "*" || iequals(a, origin); });
  }
  if (public_origins) {
    return std::any_of(public_origins->begin(), public_origins->end(),
                       [&](const std::string& a) { return iequals(a, origin); });
  }
  // Same-origin on loopback: the Origin's authority must be the Host the browser connected
  // to, and a loopback one.
  std::string_view authority;
  std::string_view port;
  if (origin.starts_with("http://")) {
    authority = origin.substr(7);
    port = "80";
  } else if (origin.starts_with("https://")) {
    authority = origin.substr(8);
    port = "443";
  } else {
    return false;
  }
  if (host.empty() || !is_loopback_authority(authority)) return false;
  // The Host header carries no scheme; a browser on https uses 443 as its default port.
  return iequals(with_port(authority, port), with_port(host, port));
}

}  // namespace relay::daemon
