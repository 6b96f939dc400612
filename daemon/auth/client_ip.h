// SPDX-License-Identifier: MIT
// The client's IP address behind reverse proxies. X-Forwarded-For / Forwarded are believed
// only when the TCP peer is a trusted proxy; the chain is then read from the right and the
// first address that is not a trusted proxy is the client (the left part is client-written).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::auth {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool v6 = false;
};

// "192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6 address becomes IPv4.
std::optional<IpAddress> parse_ip(std::string_view text) noexcept;
std::string format_ip(const IpAddress& ip);

struct Cidr {
  IpAddress base;
  uint8_t prefix = 0;
  bool contains(const IpAddress& ip) const noexcept;
};

// "10.0.0.0/8", "fd00::/8", or a single address ("127.0.0.1" = /32).
std::optional<Cidr> parse_cidr(std::string_view text) noexcept;

class TrustedProxies {
 public:
  bool add(std::string_view cidr);  // false for a bad CIDR
  bool contains(const IpAddress& ip) const noexcept;
  bool empty() const noexcept { return cidrs_.empty(); }

 private:
  std::vector<Cidr> cidrs_;
};

// peer: the TCP peer's address ("192.0.2.1", "192.0.2.1:5000", "[::1]:5000"). x_forwarded_for /
// forwarded: the header values (several header lines joined with ","), empty when absent; Forwarded
// wins when both are present. Returns the client address (canonical text), the peer itself when it
// is not trusted.
std::string resolve_client_ip(std::string_view peer, std::string_view x_forwarded_for,
                              std::string_view forwarded, const TrustedProxies& trusted);

}  // namespace relay::auth
