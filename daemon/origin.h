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
// - allowed unset: clients without Origin, and same-origin browsers. Same-origin means an
//   Origin listed in `public_origins` (the relay's own, from the config), or, with
//   public_origins unset, an Origin on a loopback name or address (localhost, 127.0.0.0/8,
//   [::1]) naming the same host[:port] as Host (default ports 80/443 made explicit). The
//   Host header alone is never trusted: with DNS rebinding, a page on evil.example talks to
//   the relay with Host and Origin both saying evil.example.
// - allowed set: clients without Origin, and an Origin equal (case-insensitively) to an
//   entry or any Origin when an entry is "*".
// The opaque origin "null" (sandboxed frames, file://) is always refused.
bool is_origin_allowed(std::string_view origin, std::string_view host,
                       const std::optional<std::vector<std::string>>& allowed,
                       const std::optional<std::vector<std::string>>& public_origins = {});

}  // namespace relay::daemon
