// SPDX-License-Identifier: MIT
// Access: the server's access-control state built from the config (README "Securing
// wsrelay"): API keys for HTTP publish, trusted proxies, the metrics listener's token and
// allowlist, the rate-limit plan, and the live connection counts for the caps. configure()
// runs at start-up and on every SIGHUP; a config whose key files cannot be read is refused
// whole (the running one stays).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access_caps.h"
#include "auth/api_keys.h"
#include "auth/client_ip.h"
#include "config.h"
#include "connection_access.h"
#include "rate_limits.h"

namespace relay::daemon {

// The parts read from the config and key files; replaced whole on reload.
struct AccessPolicy {
  auth::ApiKeySet api_keys;
  auth::TrustedProxies trusted_proxies;
  std::optional<auth::ApiKeySet> metrics_token;  // one key
  std::vector<auth::Cidr> metrics_allow;         // empty = any address

  // Reads the key files ("credential:" names need credentials_dir). nullopt and `errors`
  // (with the JSON pointer of each bad key) when one cannot be used.
  static std::optional<AccessPolicy> build(const Config& c, const char* credentials_dir,
                                           std::vector<ConfigError>* errors);
  // GET /metrics from TCP peer `peer_ip`: 0 = allowed, 403 = address not in `allow`,
  // 401 = the bearer token is missing or wrong.
  int metrics_status(std::string_view peer_ip, std::string_view authorization) const;
};

class Access {
 public:
  // False (keeping the previous state) when AccessPolicy::build fails.
  bool configure(const Config& c, std::vector<ConfigError>* errors);
  const AccessPolicy& policy() const noexcept { return policy_; }
  const RateLimitPlan& rate_plan() const noexcept { return plan_; }
  AccessCaps& caps() noexcept { return caps_; }
  HttpRateLimits& http_rates() noexcept { return http_rates_; }
  // The per-user cap hook (for /ws auth, once the token's sub is known): counts the
  // connection for `sub` in `access` (allocated here if needed). False = over `limit`: refuse
  // the connection and count RefusedCause::kPerUser.
  bool acquire_user(std::unique_ptr<ConnectionAccess>& access, std::string_view sub,
                    uint32_t limit);
  // A publish of `bytes` on a channel with options `opts` by a WebSocket connection: 0 =
  // allowed, else the ms until it would be. O(1), no allocation but the first time.
  int64_t check_publish_rate(std::unique_ptr<ConnectionAccess>& access, const Config& c,
                             const ChannelOptions& opts, uint64_t bytes, int64_t now_ms);
  // The client's address: the TCP peer, or what a trusted proxy forwarded.
  std::string client_ip(int fd, std::string_view x_forwarded_for, std::string_view forwarded) const;

 private:
  AccessPolicy policy_;
  RateLimitPlan plan_;
  AccessCaps caps_;
  HttpRateLimits http_rates_;
};

// The TCP peer's address of a socket as text ("192.0.2.1", "2001:db8::1"); "" on error.
std::string peer_address(int fd);
// "Retry-After: <s>\r\n" for a wait in ms (at least 1 s; RFC 9110 §10.2.3 counts seconds).
std::string retry_after_header(int64_t wait_ms);

}  // namespace relay::daemon
