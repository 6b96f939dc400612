// SPDX-License-Identifier: MIT
// Explanations for listen addresses net::parse_address() refuses (see listen_address.h).
#include "listen_address.h"

#include <arpa/inet.h>

#include <charconv>

#include "net/socket.h"

namespace relay::daemon {

std::optional<std::string> listen_address_problem(std::string_view text) {
  if (net::parse_address(text)) return std::nullopt;
  const std::string generic = "must be HOST:PORT or [V6]:PORT with a numeric host or localhost";
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return generic;
  const std::string host(text.substr(0, colon));
  const std::string_view port = text.substr(colon + 1);
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n > 65535)
    return "port must be a number from 0 to 65535";
  in6_addr a6{};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string inner = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, inner.c_str(), &a6) != 1)
      return "\"" + inner + "\" is not a numeric IPv6 address";
    return generic;
  }
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1)
    return "write an IPv6 host in brackets: [" + host + "]:" + std::string(port);
  return "\"" + host + "\" is not a numeric IPv4 address or localhost";
}

}  // namespace relay::daemon
