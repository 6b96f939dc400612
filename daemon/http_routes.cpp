// SPDX-License-Identifier: MIT
#include "http_routes.h"

namespace relay::daemon {
namespace {

constexpr std::string_view kChannelsPrefix = "/channels/";

// The path without a query string.
std::string_view path_of(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

Route error(int status, std::string_view allow = {}) {
  Route r;
  r.kind = RouteKind::kError;
  r.status = status;
  r.allow = allow;
  return r;
}

Route get_only(std::string_view method, RouteKind kind) {
  if (method == "GET" || method == "HEAD") return Route{kind, {}, 0, {}};
  return error(405, "GET, HEAD");
}

}  // namespace

bool wants_upgrade(const ws::HttpHead& req) noexcept {
  return ws::has_token(req.header("upgrade"), "websocket");
}

Route route_public(const ws::HttpHead& req, bool demo) noexcept {
  std::string_view path = path_of(req.target);
  if (path.starts_with(kChannelsPrefix)) {
    std::string_view name = path.substr(kChannelsPrefix.size());
    if (req.method == "POST") return Route{RouteKind::kPublish, name, 0, {}};
    if (req.method == "OPTIONS") return Route{RouteKind::kPreflight, name, 0, {}};
    if (req.method != "GET") return error(405, "GET, POST, OPTIONS");
    if (!wants_upgrade(req)) return error(426);
    return Route{RouteKind::kUpgradeRaw, name, 0, {}};
  }
  if (path == "/ws") {
    if (req.method != "GET") return error(405, "GET");
    if (!wants_upgrade(req)) return error(426);
    return Route{RouteKind::kUpgradeJson, {}, 0, {}};
  }
  if (path == "/healthz") return get_only(req.method, RouteKind::kHealthz);
  if (path == "/readyz") return get_only(req.method, RouteKind::kReadyz);
  if (path == "/" && demo) return get_only(req.method, RouteKind::kDemo);
  if (path == "/wsrelay.js") return get_only(req.method, RouteKind::kClientJs);
  return error(404);
}

Route route_metrics(const ws::HttpHead& req) noexcept {
  std::string_view path = path_of(req.target);
  if (path == "/metrics") return get_only(req.method, RouteKind::kMetrics);
  if (path == "/healthz") return get_only(req.method, RouteKind::kHealthz);
  return error(404);
}

void build_response(std::string* out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive, std::string_view extra_headers,
                    bool head_only) {
  out->append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out->append(ws::status_reason(status)).append("\r\n");
  if (!content_type.empty()) out->append("Content-Type: ").append(content_type).append("\r\n");
  // RFC 9110 §8.6: no Content-Length in a 204 (a preflight's answer).
  if (status != 204)
    out->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out->append("Cache-Control: no-store\r\n");
  if (!keep_alive) out->append("Connection: close\r\n");
  out->append(extra_headers);
  out->append("\r\n");
  if (!head_only) out->append(body);
}

}  // namespace relay::daemon
