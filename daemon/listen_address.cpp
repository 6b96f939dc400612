// Listen address parsing (see listen_address.h).
#include "listen_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace relay::daemon {
namespace {

std::optional<ListenAddress> refuse(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return std::nullopt;
}

}  // namespace

std::string ListenAddress::to_string() const {
  const std::string p = std::to_string(port);
  return family() == AF_INET6 ? "[" + host + "]:" + p : host + ":" + p;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* why) {
  constexpr std::string_view kExpected =
      "must be HOST:PORT or [V6]:PORT with a numeric host or localhost";
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return refuse(why, std::string(kExpected));
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    return refuse(why, "port must be a number from 0 to 65535");

  ListenAddress a;
  a.port = static_cast<uint16_t>(port);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    a.host = std::string(host.substr(1, host.size() - 2));
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(a.port);
    if (inet_pton(AF_INET6, a.host.c_str(), &sin6.sin6_addr) != 1)
      return refuse(why, "\"" + a.host + "\" is not a numeric IPv6 address");
    std::memcpy(&a.addr, &sin6, sizeof sin6);
    a.len = sizeof sin6;
    return a;
  }
  a.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(a.port);
  if (a.host.find(':') != std::string::npos)
    return refuse(why,
                  "write an IPv6 host in brackets: [" + a.host + "]:" + std::string(port_text));
  if (inet_pton(AF_INET, a.host.c_str(), &sin.sin_addr) != 1)
    return refuse(why, "\"" + a.host + "\" is not a numeric IPv4 address or localhost");
  std::memcpy(&a.addr, &sin, sizeof sin);
  a.len = sizeof sin;
  return a;
}

}  // namespace relay::daemon
