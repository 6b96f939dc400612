// SPDX-License-Identifier: MIT
// libFuzzer target: what the daemon does with a request head before any I/O —
// ws::parse_request, then relay::daemon::route_public / route_metrics (daemon/http_routes.h),
// check_upgrade and is_origin_allowed (daemon/origin.h).
// Input layout: byte 0 picks the parser limits, the demo flag and the allowed_origins
// setting; the rest is the request bytes. Oracles (abort on violation):
//   - a kPublish / kUpgradeRaw route's channel is the path after "/channels/" (a view into
//     the target, the same text the HTTP handler's upgrade cuts out of it);
//   - every route agrees with the method, path and Upgrade header it came from, and an
//     error is 404, 405 (with Allow) or 426; the responses we would build parse back;
//   - is_origin_allowed: no Origin is always let in, "null" never; "*" lets in the rest,
//     an empty list nothing; listed origins match in any letter case; same-origin ignores
//     the letter case of the host, lets in "http(s)://" + Host and treats the scheme's
//     default port as written out, and refuses another port.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/client_ip.h"
#include "fuzz_check.h"
#include "http_routes.h"
#include "origin.h"
#include "ws/handshake.h"

namespace {

using relay::daemon::Route;
using relay::daemon::RouteKind;
namespace ws = relay::ws;

constexpr std::string_view kChannels = "/channels/";

std::span<const std::byte> as_span(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_get(std::string_view m) { return m == "GET" || m == "HEAD"; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// The response the server would send for `r` parses back with its status (and Allow).
void check_error_response(const Route& r) {
  std::string extra;
  if (!r.allow.empty()) extra = "Allow: " + std::string(r.allow) + "\r\n";
  std::string out;
  relay::daemon::build_response(&out, r.status, "text/plain", "no\n", false, extra);
  ws::HttpHead h;
  size_t used = 0;
  FUZZ_CHECK(ws::parse_response(as_span(out), {}, &h, &used) == ws::HttpParse::kComplete);
  FUZZ_CHECK(h.status == r.status && h.header("Allow") == r.allow);
  FUZZ_CHECK(h.header("Content-Length") == "3" && used == out.size() - 3);
}

// localhost, 127.0.0.0/8 or [::1], with or without a port (origin.cpp's rule, written again).
bool loopback_host(std::string_view host) {
  std::string_view name = host;
  if (name.starts_with("[")) {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;  // an unclosed bracket names nothing
    name = name.substr(1, close - 1);
  } else if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (upper(name) == "LOCALHOST") return true;
  const auto ip = relay::auth::parse_ip(name);
  if (!ip) return false;
  if (!ip->v6) return ip->bytes[0] == 127;
  const std::array<uint8_t, 16> one = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return ip->bytes == one;
}

void check_public_route(const ws::HttpHead& req, bool demo, const Route& r) {
  const std::string_view path = path_of(req.target);
  switch (r.kind) {
    case RouteKind::kPublish:
    case RouteKind::kPreflight:
    case RouteKind::kUpgradeRaw: {
      FUZZ_CHECK(path.starts_with(kChannels));
      FUZZ_CHECK(inside(r.channel, req.target) && r.channel == path.substr(kChannels.size()));
      // http_handler.cpp's handle_upgrade cuts the channel out of the target itself.
      const std::string_view t = req.target;
      FUZZ_CHECK(r.channel == t.substr(kChannels.size(), t.find('?') - kChannels.size()));
      if (r.kind == RouteKind::kPublish) {
        FUZZ_CHECK(req.method == "POST");
      } else if (r.kind == RouteKind::kPreflight) {
        FUZZ_CHECK(req.method == "OPTIONS");
      } else {
        FUZZ_CHECK(req.method == "GET" && relay::daemon::wants_upgrade(req));
      }
      return;
    }
    case RouteKind::kUpgradeJson:
      FUZZ_CHECK(path == "/ws" && req.method == "GET" && relay::daemon::wants_upgrade(req));
      FUZZ_CHECK(r.channel.empty());
      return;
    case RouteKind::kHealthz:
      FUZZ_CHECK(path == "/healthz" && is_get(req.method));
      return;
    case RouteKind::kReadyz:
      FUZZ_CHECK(path == "/readyz" && is_get(req.method));
      return;
    case RouteKind::kDemo:
      FUZZ_CHECK(demo && path == "/" && is_get(req.method));
      return;
    case RouteKind::kClientJs:
      FUZZ_CHECK(path == "/wsrelay.js" && is_get(req.method));
      return;
    case RouteKind::kMetrics:
      FUZZ_CHECK(false && "/metrics on the public listener");
      return;
    case RouteKind::kError:
      FUZZ_CHECK(r.status == 404 || r.status == 405 || r.status == 426);
      FUZZ_CHECK((r.status == 405) == !r.allow.empty());
      if (r.status == 426) FUZZ_CHECK(!relay::daemon::wants_upgrade(req));
      if (r.status == 404) FUZZ_CHECK(!path.starts_with(kChannels) && path != "/ws");
      check_error_response(r);
      return;
  }
}

void check_metrics_route(const ws::HttpHead& req, const Route& r) {
  const std::string_view path = path_of(req.target);
  switch (r.kind) {
    case RouteKind::kMetrics:
      FUZZ_CHECK(path == "/metrics" && is_get(req.method));
      return;
    case RouteKind::kHealthz:
      FUZZ_CHECK(path == "/healthz" && is_get(req.method));
      return;
    case RouteKind::kError:
      FUZZ_CHECK(r.status == 404 || (r.status == 405 && r.allow == "GET, HEAD"));
      FUZZ_CHECK(r.status != 404 || (path != "/metrics" && path != "/healthz"));
      check_error_response(r);
      return;
    default:
      FUZZ_CHECK(false && "a public route on the metrics listener");
  }
}

void check_origin(std::string_view origin, std::string_view host,
                  const std::optional<std::vector<std::string>>& allowed) {
  using relay::daemon::is_origin_allowed;
  const bool ok = is_origin_allowed(origin, host, allowed);
  if (origin.empty()) FUZZ_CHECK(ok);
  if (upper(origin) == "NULL") FUZZ_CHECK(!ok);
  if (allowed) {
    // Listed origins compare case-insensitively (config entries are stored lowercase).
    FUZZ_CHECK(is_origin_allowed(upper(origin), host, allowed) == ok);
    const bool star = std::find(allowed->begin(), allowed->end(), "*") != allowed->end();
    if (star && upper(origin) != "NULL") FUZZ_CHECK(ok);
    if (allowed->empty() && !origin.empty()) FUZZ_CHECK(!ok);
    for (const auto& a : *allowed)
      if (a != "*") FUZZ_CHECK(is_origin_allowed(upper(a), host, allowed));
    return;
  }
  // Same-origin: the letter case of the host (in Host and in Origin) does not matter
  // (RFC 6454 §4 lowercases it; browsers send the scheme lowercase already).
  FUZZ_CHECK(is_origin_allowed(origin, upper(host), allowed) == ok);
  if (const size_t sep = origin.find("://"); sep != std::string_view::npos) {
    const std::string mixed =
        std::string(origin.substr(0, sep + 3)) + upper(origin.substr(sep + 3));
    FUZZ_CHECK(is_origin_allowed(mixed, host, allowed) == ok);
  }
  // The browser's own Origin for this Host is let in when the Host is a loopback name or
  // address (never for any other name: DNS rebinding), also with the default port written
  // out; another port is not.
  if (host.empty()) return;
  const std::string h(host);
  if (!loopback_host(host)) {
    FUZZ_CHECK(!is_origin_allowed("http://" + h, host, allowed));
    return;
  }
  FUZZ_CHECK(is_origin_allowed("http://" + h, host, allowed));
  FUZZ_CHECK(is_origin_allowed("https://" + h, host, allowed));
  if (host.find(':') == std::string_view::npos) {
    FUZZ_CHECK(is_origin_allowed("http://" + h + ":80", host, allowed));
    FUZZ_CHECK(is_origin_allowed("https://" + h + ":443", host, allowed));
    FUZZ_CHECK(!is_origin_allowed("http://" + h + ":8080", host, allowed));
    FUZZ_CHECK(!is_origin_allowed("https://" + h + ":80", host, allowed));
  }
}

std::optional<std::vector<std::string>> allowed_for(uint8_t mode) {
  switch ((mode >> 4) & 3) {
    case 1:
      return std::vector<std::string>{"http://example.com", "https://a.example:8443"};
    case 2:
      return std::vector<std::string>{"http://example.com", "*"};
    case 3:
      return std::vector<std::string>{};
    default:
      return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Byte 0: 0x80 small parser limits (size and header count from the low nibble),
  // 0x40 demo page on, 0x30 the allowed_origins setting.
  const uint8_t mode = data[0];
  ws::HttpLimits lim;
  if (mode & 0x80) {
    lim.max_head_bytes = 64 + (mode & 0x0F) * 32;
    lim.max_headers = mode & 0x0F;
  }
  const bool demo = mode & 0x40;
  const std::optional<std::vector<std::string>> allowed = allowed_for(mode);

  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  ws::HttpHead req;
  size_t used = 0;
  if (ws::parse_request(as_span(in), lim, &req, &used) != ws::HttpParse::kComplete) return 0;
  FUZZ_CHECK(used <= in.size() && inside(req.target, in));

  const Route pub = relay::daemon::route_public(req, demo);
  check_public_route(req, demo, pub);
  check_metrics_route(req, relay::daemon::route_metrics(req));

  ws::UpgradeRequest up;
  const int status = ws::check_upgrade(req, &up);
  if (pub.kind == RouteKind::kUpgradeRaw || pub.kind == RouteKind::kUpgradeJson) {
    FUZZ_CHECK(status == 0 || status == 400 || status == 426);
  }
  if (status == 0) {
    FUZZ_CHECK(req.method == "GET" && up.target == req.target);
    check_origin(up.origin, up.host, allowed);
  }
  // Origin and Host as any request may carry them, upgrade or not.
  check_origin(req.header("Origin"), req.header("Host"), allowed);
  return 0;
}
