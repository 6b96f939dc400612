// SPDX-License-Identifier: MIT
// The info line an operator needs when a browser's WebSocket is refused for its Origin:
// which origin, and the config key that would allow it. Logged once per origin (a page
// that retries must not flood the log), for at most kMaxOrigins distinct origins, then
// at most once a minute for the rest (an attacker can send any number of origins).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace relay::daemon {

class RefusedOriginLog {
 public:
  static constexpr size_t kMaxOrigins = 256;
  static constexpr int64_t kOverflowIntervalMs = 60'000;

  // Logs the refusal of `origin` at info unless it was logged before. `host` is the Host
  // header (for the same-origin hint when allowed_origins is unset).
  void note(std::string_view origin, std::string_view host, bool allowlist_configured,
            int64_t now_ms);
  // The text logged for a refusal (tests).
  static std::string message(std::string_view origin, std::string_view host,
                             bool allowlist_configured);

 private:
  std::unordered_set<std::string> seen_;
  int64_t last_overflow_ms_ = INT64_MIN / 2;
  uint64_t overflow_suppressed_ = 0;
};

}  // namespace relay::daemon
