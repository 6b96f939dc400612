// SPDX-License-Identifier: MIT
#include "auth/client_ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "ws/http_text.h"

namespace relay::auth {
namespace {

using ws::http_text::iequals;
using ws::http_text::trim;

// A node as proxies write it: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711", "2001:db8::1".
std::optional<IpAddress> parse_node(std::string_view node) {
  node = trim(node);
  if (node.size() >= 2 && node.front() == '"' && node.back() == '"')
    node = node.substr(1, node.size() - 2);
  if (node.starts_with('[')) {
    size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return parse_ip(node.substr(1, close - 1));
  }
  size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos)
    node = node.substr(0, colon);  // IPv4 with a port
  return parse_ip(node);
}

// The for= value of one Forwarded element ("for=192.0.2.1;proto=https"), or empty.
std::string_view forwarded_for(std::string_view element) {
  while (!element.empty()) {
    size_t semi = element.find(';');
    std::string_view pair = trim(element.substr(0, semi));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && iequals(trim(pair.substr(0, eq)), "for"))
      return trim(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    element.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) noexcept {
  char buf[INET6_ADDRSTRLEN] = {};
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    return ip;
  }
  ip.v6 = true;
  return ip;
}

std::string format_ip(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

bool Cidr::contains(const IpAddress& ip) const noexcept {
  if (ip.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<Cidr> parse_cidr(std::string_view text) noexcept {
  text = trim(text);
  size_t slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int max = ip->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > max)
      return std::nullopt;
  }
  return Cidr{*ip, static_cast<uint8_t>(prefix)};
}

bool TrustedProxies::add(std::string_view cidr) {
  auto c = parse_cidr(cidr);
  if (!c) return false;
  cidrs_.push_back(*c);
  return true;
}

bool TrustedProxies::contains(const IpAddress& ip) const noexcept {
  for (const auto& c : cidrs_)
    if (c.contains(ip)) return true;
  return false;
}

std::string resolve_client_ip(std::string_view peer, std::string_view x_forwarded_for,
                              std::string_view forwarded, const TrustedProxies& trusted) {
  auto peer_ip = parse_node(peer);  // with or without a port
  if (!peer_ip) return std::string(peer);
  if (!trusted.contains(*peer_ip)) return format_ip(*peer_ip);
  bool use_forwarded = !trim(forwarded).empty();
  std::string_view chain = use_forwarded ? forwarded : x_forwarded_for;
  IpAddress nearest = *peer_ip;  // the closest hop known so far
  while (!trim(chain).empty()) {
    size_t comma = chain.rfind(',');
    std::string_view element = comma == std::string_view::npos ? chain : chain.substr(comma + 1);
    chain = comma == std::string_view::npos ? std::string_view() : chain.substr(0, comma);
    auto ip = parse_node(use_forwarded ? forwarded_for(element) : element);
    // "unknown", "_hidden" or garbage: the hop that wrote it is as far as we can see.
    if (!ip) return format_ip(nearest);
    if (!trusted.contains(*ip)) return format_ip(*ip);
    nearest = *ip;
  }
  return format_ip(nearest);  // every hop is a trusted proxy: the left-most one
}

}  // namespace relay::auth
