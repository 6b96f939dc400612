// SPDX-License-Identifier: MIT
// daemon/http_routes: every endpoint of README "Endpoints" on the public and the metrics
// listener: 404 for unknown paths, 405 with Allow for other methods, 426 for a plain GET
// on a WebSocket path, HEAD where GET is allowed, query strings ignored, and the channel
// name handed on unvalidated. Also the bytes of build_response().
#include "http_routes.h"

#include <gtest/gtest.h>

#include <string>

namespace relay::daemon {
namespace {

// Parses `raw` (which must outlive the result: the head points into it).
ws::HttpHead head_of(const std::string& raw) {
  ws::HttpHead h;
  size_t used = 0;
  auto rc = ws::parse_request({reinterpret_cast<const std::byte*>(raw.data()), raw.size()},
                              ws::HttpLimits{}, &h, &used);
  EXPECT_EQ(rc, ws::HttpParse::kComplete) << raw;
  return h;
}
std::string request(const std::string& method, const std::string& target,
                    const std::string& headers = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: relay.example\r\n" + headers + "\r\n";
}
const std::string kUpgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

Route pub(const std::string& raw, bool demo = true) { return route_public(head_of(raw), demo); }
Route met(const std::string& raw) { return route_metrics(head_of(raw)); }

void expect_error(const Route& r, int status, std::string_view allow = {}) {
  EXPECT_EQ(r.kind, RouteKind::kError);
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.allow, allow);
}

TEST(RoutePublic, RawChannelUpgrade) {
  std::string raw = request("GET", "/channels/news", kUpgrade);
  Route r = pub(raw);
  EXPECT_EQ(r.kind, RouteKind::kUpgradeRaw);
  EXPECT_EQ(r.channel, "news");
  // The Upgrade token is case-insensitive and may be one of a list.
  std::string mixed = request("GET", "/channels/news", "Upgrade: WebSocket\r\n");
  EXPECT_EQ(pub(mixed).kind, RouteKind::kUpgradeRaw);
  std::string listed = request("GET", "/channels/news", "Upgrade: h2c, websocket\r\n");
  EXPECT_EQ(pub(listed).kind, RouteKind::kUpgradeRaw);
}

TEST(RoutePublic, PlainGetOnAWebSocketPathIs426) {
  std::string raw = request("GET", "/channels/news");
  expect_error(pub(raw), 426);
  std::string other = request("GET", "/channels/news", "Upgrade: h2c\r\n");
  expect_error(pub(other), 426);
  std::string ws = request("GET", "/ws");
  expect_error(pub(ws), 426);
}

TEST(RoutePublic, HttpPublish) {
  std::string raw = request("POST", "/channels/orders", "Content-Length: 0\r\n");
  Route r = pub(raw);
  EXPECT_EQ(r.kind, RouteKind::kPublish);
  EXPECT_EQ(r.channel, "orders");
}

TEST(RoutePublic, ChannelsAllowGetPostAndOptions) {
  for (const char* m : {"PUT", "DELETE", "PATCH", "HEAD"}) {
    std::string raw = request(m, "/channels/news", kUpgrade);
    expect_error(pub(raw), 405, "GET, POST, OPTIONS");
  }
}

TEST(RoutePublic, CorsPreflightOfAPublish) {
  std::string raw = request("OPTIONS", "/channels/news", "Origin: https://app.example\r\n");
  Route r = pub(raw);
  EXPECT_EQ(r.kind, RouteKind::kPreflight);
  EXPECT_EQ(r.channel, "news");
}

TEST(RoutePublic, JsonProtocolUpgrade) {
  std::string raw = request("GET", "/ws", kUpgrade);
  EXPECT_EQ(pub(raw).kind, RouteKind::kUpgradeJson);
  EXPECT_EQ(pub(raw).channel, "");
  for (const char* m : {"POST", "HEAD", "PUT"}) {
    std::string other = request(m, "/ws", kUpgrade);
    expect_error(pub(other), 405, "GET");
  }
}

TEST(RoutePublic, HealthAndReadiness) {
  for (const char* m : {"GET", "HEAD"}) {
    std::string h = request(m, "/healthz"), r = request(m, "/readyz");
    EXPECT_EQ(pub(h).kind, RouteKind::kHealthz) << m;
    EXPECT_EQ(pub(r).kind, RouteKind::kReadyz) << m;
  }
  std::string post = request("POST", "/healthz"), del = request("DELETE", "/readyz");
  expect_error(pub(post), 405, "GET, HEAD");
  expect_error(pub(del), 405, "GET, HEAD");
}

TEST(RoutePublic, DemoPageOnlyWhenOn) {
  std::string get = request("GET", "/"), head = request("HEAD", "/"), post = request("POST", "/");
  EXPECT_EQ(pub(get, true).kind, RouteKind::kDemo);
  EXPECT_EQ(pub(head, true).kind, RouteKind::kDemo);
  expect_error(pub(post, true), 405, "GET, HEAD");
  expect_error(pub(get, false), 404);
  expect_error(pub(post, false), 404);
}

TEST(RoutePublic, QueryStringsAreIgnored) {
  std::string ch = request("GET", "/channels/news?token=abc&x=1", kUpgrade);
  EXPECT_EQ(pub(ch).kind, RouteKind::kUpgradeRaw);
  EXPECT_EQ(pub(ch).channel, "news");
  std::string post = request("POST", "/channels/news?", "");
  EXPECT_EQ(pub(post).channel, "news");
  std::string ws = request("GET", "/ws?v=2", kUpgrade);
  EXPECT_EQ(pub(ws).kind, RouteKind::kUpgradeJson);
  std::string hz = request("GET", "/healthz?probe=1");
  EXPECT_EQ(pub(hz).kind, RouteKind::kHealthz);
  std::string root = request("GET", "/?utm=1");
  EXPECT_EQ(pub(root).kind, RouteKind::kDemo);
}

TEST(RoutePublic, ChannelNameIsHandedOnUnvalidated) {
  // The caller checks the name (README: 1 to 200 bytes of A-Z a-z 0-9 . _ : / -) and
  // answers 400; the router only cuts it out of the path.
  const std::pair<const char*, const char*> cases[] = {
      {"/channels/", ""},         {"/channels/a/b", "a/b"},
      {"/channels/%20x", "%20x"}, {"/channels/bad*name", "bad*name"},
      {"/channels/..", ".."},
  };
  for (auto [target, name] : cases) {
    std::string raw = request("POST", target);
    Route r = pub(raw);
    EXPECT_EQ(r.kind, RouteKind::kPublish) << target;
    EXPECT_EQ(r.channel, name) << target;
  }
}

TEST(RoutePublic, UnknownPathsAre404) {
  for (const char* target : {"/nope", "/channels", "/ws/", "/WS", "/healthz/", "/Healthz",
                             "/metrics", "/index.html", "//channels/x", "*"}) {
    std::string raw = request("GET", target, kUpgrade);
    expect_error(pub(raw), 404);
  }
}

TEST(RouteMetrics, MetricsAndHealth) {
  for (const char* m : {"GET", "HEAD"}) {
    std::string raw = request(m, "/metrics"), h = request(m, "/healthz");
    EXPECT_EQ(met(raw).kind, RouteKind::kMetrics) << m;
    EXPECT_EQ(met(h).kind, RouteKind::kHealthz) << m;
  }
  std::string q = request("GET", "/metrics?name[]=x");
  EXPECT_EQ(met(q).kind, RouteKind::kMetrics);
  std::string post = request("POST", "/metrics"), put = request("PUT", "/healthz");
  expect_error(met(post), 405, "GET, HEAD");
  expect_error(met(put), 405, "GET, HEAD");
}

TEST(RouteMetrics, PublicEndpointsAre404There) {
  for (const char* target : {"/", "/readyz", "/ws", "/channels/news", "/metrics/"}) {
    std::string raw = request("GET", target, kUpgrade);
    expect_error(met(raw), 404);
  }
}

TEST(BuildResponse, FullResponse) {
  std::string out;
  build_response(&out, 200, "text/plain; charset=utf-8", "ok\n", true);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Cache-Control: no-store\r\n"
            "\r\n"
            "ok\n");
}

TEST(BuildResponse, CloseExtraHeadersAndNoContentType) {
  std::string out;
  build_response(&out, 405, "", "", false, "Allow: GET, HEAD\r\n");
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Length: 0\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n"
            "Allow: GET, HEAD\r\n"
            "\r\n");
}

TEST(BuildResponse, HeadOnlyKeepsTheLengthOfTheBodyItLeavesOut) {
  std::string out;
  build_response(&out, 426, "text/plain", "Upgrade Required", true, "Upgrade: websocket\r\n",
                 /*head_only=*/true);
  EXPECT_EQ(out,
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 16\r\n"
            "Cache-Control: no-store\r\n"
            "Upgrade: websocket\r\n"
            "\r\n");
}

TEST(BuildResponse, AppendsToWhatIsThere) {
  std::string out = "previous";
  build_response(&out, 404, "", "", true);
  EXPECT_EQ(
      out,
      "previousHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nCache-Control: no-store\r\n\r\n");
}

}  // namespace
}  // namespace relay::daemon
