// SPDX-License-Identifier: MIT
// Which endpoint a request head asks for (README "Endpoints"). Pure: no I/O, no state.
#pragma once

#include <string>
#include <string_view>

#include "ws/handshake.h"

namespace relay::daemon {

enum class RouteKind : uint8_t {
  kUpgradeRaw,   // GET /channels/{name} + Upgrade
  kUpgradeJson,  // GET /ws + Upgrade
  kPublish,      // POST /channels/{name}
  kPreflight,    // OPTIONS /channels/{name} (CORS preflight of an HTTP publish)
  kHealthz,      // GET /healthz
  kReadyz,       // GET /readyz
  kDemo,         // GET / (when the demo is on)
  kClientJs,     // GET /wsrelay.js (the browser client)
  kMetrics,      // GET /metrics (metrics listener only)
  kError,        // answer `status` (with `allow` for 405)
};

struct Route {
  RouteKind kind = RouteKind::kError;
  std::string_view channel;  // kUpgradeRaw, kPublish: the {name} part, not yet validated
  int status = 404;          // kError
  std::string_view allow;    // kError 405: the Allow header value
};

// The public listener. `demo`: serve the demo page at GET /.
Route route_public(const ws::HttpHead& req, bool demo) noexcept;
// The metrics listener: /metrics and /healthz.
Route route_metrics(const ws::HttpHead& req) noexcept;

// Does the request ask for a WebSocket upgrade at all (Upgrade: websocket)?
bool wants_upgrade(const ws::HttpHead& req) noexcept;

// A complete HTTP/1.1 response. keep_alive = false adds `Connection: close`.
// `extra_headers` are whole "Name: value\r\n" lines.
void build_response(std::string* out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers = {},
                    bool head_only = false);

}  // namespace relay::daemon
