// SPDX-License-Identifier: MIT
// The config keys of README "Securing wsrelay" that govern HTTP publish keys, the metrics
// listener, and rate limits (config.h holds them; access.h turns them into decisions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace relay::daemon {

// Client -> relay publishes per connection (per client IP on HTTP publish), as two token
// buckets. A rate of 0 turns that bucket off; a burst of 0 means the rate.
struct RateLimitConfig {
  uint32_t messages_per_s = 0;
  uint32_t message_burst = 0;
  uint32_t bytes_per_s = 0;
  uint32_t byte_burst = 0;
  bool enabled() const noexcept { return messages_per_s != 0 || bytes_per_s != 0; }
  bool operator==(const RateLimitConfig&) const = default;
};

// An API key for HTTP publish: the secret inline or in a file ("credential:<name>" =
// $CREDENTIALS_DIRECTORY/<name>), optionally limited to channel patterns.
struct ApiKeyConfig {
  std::string name;
  std::string secret;
  std::string file;
  std::vector<std::string> channels;  // empty = every channel
  bool operator==(const ApiKeyConfig&) const = default;
};

// Who may read /metrics on the metrics listener: a bearer token (inline or from a file)
// and/or an allowlist of TCP peer addresses; both must pass when both are set.
struct MetricsAccess {
  std::string token;
  std::string token_file;
  std::vector<std::string> allow;  // addresses or CIDRs; empty = any address
  bool operator==(const MetricsAccess&) const = default;
};

}  // namespace relay::daemon
