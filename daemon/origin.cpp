// SPDX-License-Identifier: MIT
#include "origin.h"

#include <algorithm>
#include <cctype>

namespace relay::daemon {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

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

}  // namespace

bool is_origin_allowed(std::string_view origin, std::string_view host,
                       const std::optional<std::vector<std::string>>& allowed) {
  if (origin.empty()) return true;  // not a browser: Origin is a browser's promise
  if (iequals(origin, "null")) return false;
  if (allowed) {
    return std::any_of(allowed->begin(), allowed->end(),
                       [&](const std::string& a) { return a == "*" || iequals(a, origin); });
  }
  // Same-origin: the Origin's authority must be the Host the browser connected to.
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
  if (host.empty()) return false;
  // The Host header carries no scheme; a browser on https uses 443 as its default port.
  return iequals(with_port(authority, port), with_port(host, port));
}

}  // namespace relay::daemon
