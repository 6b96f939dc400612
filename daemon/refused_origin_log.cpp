// SPDX-License-Identifier: MIT
#include "refused_origin_log.h"

#include <spdlog/spdlog.h>

namespace relay::daemon {

std::string RefusedOriginLog::message(std::string_view origin, std::string_view host,
                                      bool allowlist_configured) {
  if (origin == "null") {
    return "refused a WebSocket from Origin 'null' (a sandboxed frame or a file:// page); "
           "such pages cannot be allowed, serve the page from http(s)";
  }
  std::string m = fmt::format("refused a WebSocket from Origin '{}' (Host '{}'): ", origin, host);
  if (allowlist_configured) {
    m += fmt::format("add \"{}\" to allowed_origins to allow it", origin);
  } else {
    m += fmt::format(
        "only same-origin pages are allowed while allowed_origins is unset; set "
        "\"allowed_origins\": [\"{}\"] to allow it",
        origin);
  }
  return m;
}

void RefusedOriginLog::note(std::string_view origin, std::string_view host,
                            bool allowlist_configured, int64_t now_ms) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  std::string key(origin.substr(0, 256));  // bounded: an Origin header can be 8 KiB
  if (seen_.contains(key)) return;
  if (seen_.size() >= kMaxOrigins) {
    if (now_ms - last_overflow_ms_ < kOverflowIntervalMs) {
      ++overflow_suppressed_;
      return;
    }
    last_overflow_ms_ = now_ms;
    spdlog::info("{} (more than {} distinct origins refused; {} refusals not logged)",
                 message(key, host.substr(0, 256), allowlist_configured), kMaxOrigins,
                 overflow_suppressed_);
    overflow_suppressed_ = 0;
    return;
  }
  spdlog::info("{}", message(key, host.substr(0, 256), allowlist_configured));
  seen_.insert(std::move(key));
}

}  // namespace relay::daemon
