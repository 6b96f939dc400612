// SPDX-License-Identifier: MIT
#include "access.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auth/key.h"

namespace relay::daemon {
namespace {

constexpr size_t kMaxSecretFile = 64 * 1024;

// A secret from `file` (a path or "credential:<name>"), without its trailing newline.
std::optional<std::string> read_secret(const std::string& file, const char* credentials_dir,
                                       std::string* error) {
  auto path = auth::resolve_key_file(file, credentials_dir, error);
  if (!path) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + *path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  if (s.size() > kMaxSecretFile) {
    *error = *path + " is larger than 64 KiB";
    return std::nullopt;
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::optional<AccessPolicy> AccessPolicy::build(const Config& c, const char* credentials_dir,
                                                std::vector<ConfigError>* errors) {
  AccessPolicy p;
  const size_t before = errors->size();
  for (size_t i = 0; i < c.api_keys.size(); ++i) {
    const ApiKeyConfig& k = c.api_keys[i];
    const std::string where = "/api_keys/" + std::to_string(i);
    std::string error;
    std::optional<std::string> secret = k.file.empty()
                                            ? std::optional<std::string>(k.secret)
                                            : read_secret(k.file, credentials_dir, &error);
    if (!secret || !p.api_keys.add(k.name, *secret, k.channels, &error))
      errors->push_back(ConfigError{where + (k.file.empty() ? "/secret" : "/file"), error});
  }
  for (size_t i = 0; i < c.trusted_proxies.size(); ++i) {
    if (!p.trusted_proxies.add(c.trusted_proxies[i]))
      errors->push_back(ConfigError{"/trusted_proxies/" + std::to_string(i),
                                    "must be an IP address or a CIDR like 10.0.0.0/8"});
  }
  if (c.metrics_access) {
    const MetricsAccess& m = *c.metrics_access;
    if (!m.token.empty() && !m.token_file.empty())
      errors->push_back(ConfigError{"/metrics_access", "give token or token_file, not both"});
    std::string error;
    std::optional<std::string> token;
    if (!m.token_file.empty()) {
      token = read_secret(m.token_file, credentials_dir, &error);
      if (!token) errors->push_back(ConfigError{"/metrics_access/token_file", error});
    } else if (!m.token.empty()) {
      token = m.token;
    }
    if (token) {
      p.metrics_token.emplace();
      if (!p.metrics_token->add("metrics", *token, {}, &error))
        errors->push_back(ConfigError{"/metrics_access", "token: needs at least 16 characters"});
    }
    for (size_t i = 0; i < m.allow.size(); ++i) {
      if (auto cidr = auth::parse_cidr(m.allow[i]))
        p.metrics_allow.push_back(*cidr);
      else
        errors->push_back(ConfigError{"/metrics_access/allow/" + std::to_string(i),
                                      "must be an IP address or a CIDR like 10.0.0.0/8"});
    }
  }
  if (errors->size() != before) return std::nullopt;
  return p;
}

int AccessPolicy::metrics_status(std::string_view peer_ip, std::string_view authorization) const {
  if (!metrics_allow.empty()) {
    auto ip = auth::parse_ip(peer_ip);
    bool listed = false;
    for (const auth::Cidr& c : metrics_allow) listed = listed || (ip && c.contains(*ip));
    if (!listed) return 403;
  }
  if (metrics_token &&
      metrics_token->check(authorization, "").status != auth::ApiKeyStatus::kAllowed)
    return 401;
  return 0;
}

bool Access::configure(const Config& c, std::vector<ConfigError>* errors) {
  auto p = AccessPolicy::build(c, std::getenv("CREDENTIALS_DIRECTORY"), errors);
  if (!p) return false;
  policy_ = std::move(*p);
  plan_.configure(c);
  return true;
}

bool Access::acquire_user(std::unique_ptr<ConnectionAccess>& access, std::string_view sub,
                          uint32_t limit) {
  if (limit == 0) return true;
  if (!access) access = std::make_unique<ConnectionAccess>();
  return caps_.acquire_user(sub, limit, &access->slots);
}

int64_t Access::check_publish_rate(std::unique_ptr<ConnectionAccess>& access, const Config& c,
                                   const ChannelOptions& opts, uint64_t bytes, int64_t now_ms) {
  if (!plan_.any()) return 0;
  if (!access) access = std::make_unique<ConnectionAccess>();  // limits turned on by a reload
  return access->rate.check(plan_, plan_.slot_for(c, opts), bytes, now_ms);
}

std::string Access::client_ip(int fd, std::string_view x_forwarded_for,
                              std::string_view forwarded) const {
  std::string peer = peer_address(fd);
  if (policy_.trusted_proxies.empty()) return peer;
  return auth::resolve_client_ip(peer, x_forwarded_for, forwarded, policy_.trusted_proxies);
}

std::string peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    if (!::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text)) return {};
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (!::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text)) return {};
    // An IPv4-mapped address (dual-stack listener) counts as the IPv4 client.
    if (auto ip = auth::parse_ip(text)) return auth::format_ip(*ip);
  } else {
    return {};
  }
  return text;
}

std::string retry_after_header(int64_t wait_ms) {
  const int64_t s = std::max<int64_t>(1, (wait_ms + 999) / 1000);
  return "Retry-After: " + std::to_string(s) + "\r\n";
}

}  // namespace relay::daemon
