// Listen addresses from the config and the command line: "HOST:PORT" or "[V6]:PORT".
// HOST is a numeric IPv4 address or "localhost" (127.0.0.1); V6 a numeric IPv6 address.
// Names other than localhost are refused: resolving them at start-up would make binding
// depend on DNS. Pure parsing, no syscalls besides inet_pton.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::daemon {

struct ListenAddress {
  sockaddr_storage addr{};  // sockaddr_in or sockaddr_in6 with the port set (network order)
  socklen_t len = 0;        // sizeof the sockaddr_in / sockaddr_in6 inside addr
  std::string host;         // numeric host without brackets ("127.0.0.1", "::1")
  uint16_t port = 0;        // host order; 0 = any free port
  int family() const noexcept { return addr.ss_family; }
  std::string to_string() const;  // "127.0.0.1:8080" or "[::1]:8080"
};

// Parses `text`; on failure returns nullopt and, if `why` is given, what was expected.
std::optional<ListenAddress> parse_listen_address(std::string_view text,
                                                  std::string* why = nullptr);

}  // namespace relay::daemon
