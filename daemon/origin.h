// SPDX-License-Identifier: MIT
// Browser origin policy for WebSocket upgrades (RFC 6455 §10.2): refuse cross-site
// WebSocket hijacking with 403 before the 101 is sent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::daemon {

// `origin` is the Origin header ("" = absent), `host` the Host header.
// - allowed unset: clients without Origin, and browsers whose Origin names the same
//   host[:port] as Host (default ports 80/443 made explicit) are accepted.
// - allowed set: clients without Origin, and an Origin equal (case-insensitively) to an
//   entry or any Origin when an entry is "*".
// The opaque origin "null" (sandboxed frames, file://) is always refused.
bool is_origin_allowed(std::string_view origin, std::string_view host,
                       const std::optional<std::vector<std::string>>& allowed);

}  // namespace relay::daemon
