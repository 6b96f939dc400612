// SPDX-License-Identifier: MIT
// HTTP on the public and metrics listeners: request heads, routes, the WebSocket
// upgrade (origin, subprotocol, limits), HTTP publish, health and metrics answers.
// Client-caused errors are counted and logged at debug, never at error (nginx does the same).
#include "http_handler.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "auth/redact.h"
#include "base/bytes.h"
#include "demo_page.h"
#include "http_routes.h"
#include "media_type.h"
#include "origin.h"
#include "pubsub/channel_name.h"
#include "raw_history.h"
#include "server.h"
#include "upgrade_token.h"

namespace relay::daemon {
namespace {

// The body length of a publish: 0 and *len, or the status to refuse it with: 411 without
// Content-Length (or with Transfer-Encoding, which we do not take), 400 for a bad value or
// differing values (RFC 9112 §6.3: the length is then unknowable).
int content_length_of(const ws::HttpHead& req, size_t* len) {
  if (req.has_header("transfer-encoding")) return 411;
  std::string_view cl = req.header("content-length");
  if (cl.empty()) return 411;
  auto [ptr, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), *len);
  if (ec != std::errc() || ptr != cl.data() + cl.size()) return 400;
  for (size_t i = 0; i < req.header_count; ++i) {
    const ws::HttpHeader& h = req.headers[i];
    if (h.name.size() == 14 && ws::has_token(h.name, "content-length") && h.value != cl) return 400;
  }
  return 0;
}

// Every line of a header joined with "," (RFC 9110 §5.3), for X-Forwarded-For / Forwarded,
// which proxies may append as separate lines.
std::string joined_header(const ws::HttpHead& req, std::string_view name) {
  std::string out;
  for (size_t i = 0; i < req.header_count; ++i) {
    const ws::HttpHeader& h = req.headers[i];
    if (h.name.size() != name.size() || !ws::has_token(h.name, name)) continue;
    if (!out.empty()) out += ",";
    out += h.value;
  }
  return out;
}

constexpr std::string_view kBearerChallenge = "WWW-Authenticate: Bearer\r\n";

}  // namespace

bool HttpHandler::origin_allowed(std::string_view origin, std::string_view host) noexcept {
  const Config& cfg = server_.config();
  if (is_origin_allowed(origin, host, cfg.allowed_origins, cfg.public_origins)) return true;
  refused_origins_.note(origin, host, cfg.allowed_origins.has_value(), server_.now_ms());
  return false;
}

void HttpHandler::process(Client* c) noexcept {
  const Limits& lim = server_.config().limits;
  ws::HttpLimits hl{lim.max_header_bytes, std::min<size_t>(lim.max_headers, ws::kMaxHttpHeaders)};
  while (c->phase == ClientPhase::kHttp) {
    if (c->http->publish_in_flight) {
      c->http->resume_after_publish = true;  // the answer comes first (keeps responses in order)
      return;
    }
    // This turn's budget spent (many publishes on one keep-alive connection): the rest
    // waits for before-sleep, after every other client's turn (fair_turns.cpp).
    if (!c->http->in.empty() && !server_.turn_budget_left(c)) {
      server_.hold_input(c);
      return;
    }
    const uint64_t delivered_before = server_.stats().messages_delivered;
    if (c->http->body_needed) {
      if (c->http->in.size() < c->http->body_needed) return;
      const size_t body = c->http->body_needed;
      handle_publish_body(c, {c->http->in.data(), body});
      c->http->in.consume(body);
      c->http->body_needed = 0;
      server_.charge_message(c, server_.stats().messages_delivered - delivered_before, body);
      continue;
    }
    if (c->http->in.empty()) {
      c->http->in.shrink_if_empty();
      return;
    }
    ws::HttpHead req;
    size_t head_len = 0;
    switch (ws::parse_request({c->http->in.data(), c->http->in.size()}, hl, &req, &head_len)) {
      case ws::HttpParse::kNeedMore:
        if (c->http->in.size() > lim.max_header_bytes) {
          ++server_.stats().handshake_failures_by_status[431];
          refuse(c, 431, "request header fields too large\n");
        }
        return;
      case ws::HttpParse::kTooLarge:
        ++server_.stats().handshake_failures_by_status[431];
        refuse(c, 431, "request header fields too large\n");
        return;
      case ws::HttpParse::kBad:
        refuse(c, 400, "malformed request\n");
        return;
      case ws::HttpParse::kVersion:
        refuse(c, 505, "HTTP/1.1 or HTTP/1.0 only\n");
        return;
      case ws::HttpParse::kComplete:
        break;
    }
    c->http->deadline_ms = 0;
    c->http->keep_alive_idle = false;
    c->http->keep_alive =
        req.version == "HTTP/1.1" && !ws::has_token(req.header("connection"), "close");
    const bool more = handle_request(c, req, head_len);
    server_.charge_message(c, server_.stats().messages_delivered - delivered_before, head_len);
    if (!more) return;
  }
}

bool HttpHandler::handle_request(Client* c, const ws::HttpHead& req, size_t head_len) noexcept {
  c->http->cors_headers.clear();
  Route route = c->listener == ListenerKind::kMetrics ? route_metrics(req)
                                                      : route_public(req, server_.config().demo);
  bool head_only = req.method == "HEAD";
  switch (route.kind) {
    case RouteKind::kHealthz:
      c->http->in.consume(head_len);
      respond(c, 200, "text/plain", "ok\n", {}, head_only);
      return true;
    case RouteKind::kReadyz:
      c->http->in.consume(head_len);
      if (server_.draining())
        respond(c, 503, "text/plain", "draining\n", {}, head_only);
      else if (!server_.broker().up())
        respond(c, 503, "text/plain", "broker down\n", {}, head_only);
      else
        respond(c, 200, "text/plain", "ready\n", {}, head_only);
      return true;
    case RouteKind::kDemo:
      c->http->in.consume(head_len);
      respond(c, 200, "text/html; charset=utf-8", demo_page_html(), {}, head_only);
      return true;
    case RouteKind::kClientJs:
      c->http->in.consume(head_len);
      respond(c, 200, "text/javascript; charset=utf-8", wsrelay_js(), {}, head_only);
      return true;
    case RouteKind::kMetrics: {
      // metrics_access: an address allowlist (the TCP peer: no proxy is believed here) and/or
      // a bearer token. Only /metrics: /healthz stays open for probes.
      const int refused = server_.access().policy().metrics_status(peer_address(c->fd),
                                                                   req.header("authorization"));
      c->http->in.consume(head_len);
      if (refused == 401) {
        respond(c, 401, "text/plain", "a bearer token is required\n", kBearerChallenge, head_only);
        return true;
      }
      if (refused == 403) {
        respond(c, 403, "text/plain", "address not allowed\n", {}, head_only);
        return true;
      }
      std::string body = server_.metrics_text();
      respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, {}, head_only);
      return true;
    }
    case RouteKind::kError: {
      c->http->in.consume(head_len);
      std::string extra;
      if (route.status == 405) extra = "Allow: " + std::string(route.allow) + "\r\n";
      if (route.status == 426) extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
      std::string body = std::string(ws::status_reason(route.status)) + "\n";
      if (route.status == 426 || route.status == 404 || route.status == 405) {
        respond(c, route.status, "text/plain", body, extra, head_only);
        return true;
      }
      refuse(c, route.status, body, extra);
      return false;
    }
    case RouteKind::kUpgradeRaw:
    case RouteKind::kUpgradeJson:
      return handle_upgrade(c, req, head_len, route.kind == RouteKind::kUpgradeJson, route.channel);
    case RouteKind::kPreflight:
      handle_preflight(c, req, head_len);
      return true;
    case RouteKind::kPublish:
      break;
  }

  // HTTP publish: POST /channels/{name} with a Content-Length body. Everything read from
  // the head is taken before the head leaves the buffer.
  std::string channel(route.channel);
  std::string type(req.header("content-type"));
  const bool expects_continue = ws::has_token(req.header("expect"), "100-continue");
  size_t len = 0;
  int head_status = content_length_of(req, &len);
  // Cross-site requests (a form POST or a no-cors fetch from another site's page, sent by a
  // visitor's browser) are refused like cross-site WebSockets; allowed ones get CORS headers.
  const std::string_view origin = req.header("origin");
  const bool origin_ok = origin_allowed(origin, req.header("host"));
  if (origin_ok && !origin.empty())
    c->http->cors_headers =
        "Access-Control-Allow-Origin: " + std::string(origin) + "\r\nVary: Origin\r\n";
  const auth::ApiKeySet& keys = server_.access().policy().api_keys;
  const auth::ApiKeyStatus key_status =
      keys.empty() ? auth::ApiKeyStatus::kAllowed
                   : keys.check(req.header("authorization"), channel).status;
  std::string xff = joined_header(req, "x-forwarded-for");
  std::string forwarded = joined_header(req, "forwarded");
  c->http->in.consume(head_len);
  if (server_.draining()) {
    refuse(c, 503, "draining\n");
    return false;
  }
  if (!pubsub::is_valid_channel_name(channel)) {
    refuse(c, 400, "bad channel name\n");
    return false;
  }
  if (!origin_ok) {
    refuse(c, 403, "origin not allowed\n");
    return false;
  }
  if (key_status == auth::ApiKeyStatus::kMissing || key_status == auth::ApiKeyStatus::kWrongKey) {
    refuse(c, 401, "a valid API key is required (Authorization: Bearer <key>)\n", kBearerChallenge);
    return false;
  }
  if (key_status == auth::ApiKeyStatus::kForbidden) {
    refuse(c, 403, "this API key may not publish on this channel\n");
    return false;
  }
  if (head_status != 0) {
    refuse(c, head_status,
           head_status == 411 ? "a Content-Length body is required\n"
                              : "bad or conflicting Content-Length\n");
    return false;
  }
  const ChannelOptions& opts = server_.config().options_for(channel);
  size_t limit =
      opts.max_message_bytes ? opts.max_message_bytes : server_.config().limits.max_message_bytes;
  if (len > limit) {
    refuse(c, 413, "message too large\n");
    return false;
  }
  if (opts.publish == PublishRight::kClients) {
    refuse(c, 403, "HTTP publishing is not allowed on this channel\n");
    return false;
  }
  // Rate limit per client IP (behind trusted_proxies: the forwarded address), charged with
  // the body's length before it is read.
  Access& access = server_.access();
  const uint32_t slot = access.rate_plan().slot_for(server_.config(), opts);
  if (access.rate_plan().slot_config(slot).enabled()) {
    const std::string ip = access.client_ip(c->fd, xff, forwarded);
    if (int64_t wait =
            access.http_rates().check(access.rate_plan(), slot, ip, len, server_.now_ms())) {
      server_.stats().count_rate_limited(RateLimitedPath::kHttp);
      refuse(c, 429, "rate limit exceeded\n", retry_after_header(wait));
      return false;
    }
  }
  c->http->publish_channel = std::move(channel);
  c->http->publish_type = std::move(type);
  c->http->body_needed = len;
  if (len == 0) {
    handle_publish_body(c, {});
    c->http->body_needed = 0;
    return true;
  }
  // The body must arrive in time too (a slow body is a slow-loris like a slow head).
  c->http->deadline_ms = server_.now_ms() + server_.config().limits.handshake_timeout_ms;
  server_.arm_no_later(c, c->http->deadline_ms);
  // RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` waits for this (curl
  // does for bodies over 1 KiB) before it sends the body.
  if (expects_continue && c->http->in.size() < len) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    c->out().push(FrameRef::copy_of(as_bytes(kContinue)));
    server_.mark_pending(c);
  }
  return true;
}

void HttpHandler::handle_publish_body(Client* c, std::span<const std::byte> body) noexcept {
  // application/json: one JSON value, relayed as sent (/ws subscribers get it as "data");
  // text/*: a text message; anything else: binary. Media types compare case-insensitively.
  const std::string_view type = c->http->publish_type;
  const bool json = wire::is_json_media_type(type);
  const bool text = json || wire::is_text_media_type(type);
  if (text && !ws::is_valid_utf8(body)) {
    respond(c, 400, "text/plain", "a text body must be UTF-8\n");
    return;
  }
  if (json) {
    if (auto why = wire::check_json(as_text(body))) {
      respond(c, 400, "text/plain", *why + "\n");
      return;
    }
  }
  const wire::PayloadKind kind =
      json ? wire::PayloadKind::kData
           : (text ? wire::PayloadKind::kText : wire::PayloadKind::kBinary);
  ++server_.stats().published_http;
  // The 200 goes out when the broker has accepted the message (this call, or later).
  c->http->publish_in_flight = true;
  ++c->publishes_in_flight;
  // The channel's options again for its history (no sender: echo does not matter).
  const ChannelOptions& opts = server_.config().options_for(c->http->publish_channel);
  server_.broker().publish(make_message(c->http->publish_channel, kind, body, nullptr, opts),
                           [this, c](const PublishResult& r) { on_published(c, r); });
}

void HttpHandler::on_published(Client* c, const PublishResult& r) noexcept {
  --c->publishes_in_flight;
  if (c->phase != ClientPhase::kHttp) return;  // closed meanwhile: nobody to answer
  HttpSession& h = *c->http;
  h.publish_in_flight = false;
  if (r.accepted)
    respond(c, 200, "application/json",
            "{\"delivered\":" + std::to_string(r.delivered) +
                (r.offset ? ",\"offset\":" + std::to_string(r.offset) : std::string()) + "}\n");
  else
    respond(c, 503, "text/plain", "publish failed\n");
  if (h.resume_after_publish && c->phase == ClientPhase::kHttp) {
    h.resume_after_publish = false;
    process(c);  // requests that arrived meanwhile
  }
}

// `json`: the JSON protocol on /ws; else the raw relay on `channel` (not yet validated).
bool HttpHandler::handle_upgrade(Client* c, const ws::HttpHead& req, size_t head_len, bool json,
                                 std::string_view channel) noexcept {
  ws::UpgradeRequest up;
  if (int status = ws::check_upgrade(req, &up); status != 0) {
    ++server_.stats().handshake_failures_by_status[status];
    refuse(c, status, "bad WebSocket upgrade\n",
           status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
    return false;
  }
  auto fail = [&](int status, std::string_view why) {
    ++server_.stats().handshake_failures_by_status[status];
    spdlog::debug("client {}: upgrade refused ({}): {}", c->id, status, why);
    refuse(c, status, std::string(why) + "\n");
    return false;
  };
  if (server_.draining()) return fail(503, "draining");
  if (!json && !pubsub::is_valid_channel_name(channel)) return fail(400, "bad channel name");
  std::optional<RawResume> resume = json ? RawResume{} : parse_raw_resume(req.target);
  if (!resume) return fail(400, "bad history query (history=N, or since=OFFSET&epoch=E)");
  if (!origin_allowed(up.origin, up.host)) return fail(403, "origin not allowed");
  if (server_.websockets() >= server_.config().limits.max_connections)
    return fail(503, "too many connections");
  std::unique_ptr<ConnectionAccess> access;
  if (!take_ip_slot(c, req, &access)) return fail(503, "too many connections from this address");
  spdlog::debug("client {}: upgrade {}", c->id, auth::redact_target(req.target));

  // Tokens (auth.mode optional/required): a raw channel's comes with the upgrade; /ws
  // sends {"op":"auth"} first, within auth.timeout_ms when required.
  std::unique_ptr<ConnAuth> conn_auth;
  std::string offer(up.protocols);
  if (const AuthRuntime& a = server_.auth(); a.enabled()) {
    if (json) {
      if (a.mode == auth::AuthMode::kRequired) {
        conn_auth = std::make_unique<ConnAuth>();
        conn_auth->deadline_ms = server_.now_ms() + server_.config().auth.timeout_ms;
      }
    } else {
      UpgradeToken found = find_upgrade_token(req.target, req.header("authorization"), up.protocols,
                                              req.header("cookie"), server_.config().auth.cookie);
      offer = std::move(found.protocols);
      std::optional<auth::Identity> who;
      if (!found.token.empty()) {
        auth::VerifyResult r = a.verify(found.token);
        if (!r.ok()) {
          server_.stats().count_auth_failure(size_t(r.failure));
          return fail(401, "invalid token: " + std::string(auth::failure_name(r.failure)));
        }
        who = std::move(r.identity);
      } else if (a.mode == auth::AuthMode::kRequired) {
        server_.stats().count_auth_failure(kAuthMissingSlot);
        return fail(401, "a token is required");
      }
      const auth::Access right = auth::may_subscribe(a.mode, who ? &*who : nullptr, channel,
                                                     server_.config().options_for(channel).access);
      if (right == auth::Access::kUnauthenticated) return fail(401, "this channel needs a token");
      if (right == auth::Access::kForbidden)
        return fail(403, "the token does not grant this channel");
      if (who) {
        conn_auth = std::make_unique<ConnAuth>();
        conn_auth->who = std::move(who);
      }
    }
  }

  // Sec-WebSocket-Protocol: answer exactly one offered value, or refuse (RFC 6455 §4.2.2).
  // A bearer.<token> entry is never answered: another offered value, or none.
  std::string_view protocol;
  if (!offer.empty()) {
    if (server_.config().subprotocols) {
      std::vector<std::string_view> supported(server_.config().subprotocols->begin(),
                                              server_.config().subprotocols->end());
      protocol = ws::choose_subprotocol(offer, supported);
      if (protocol.empty()) return fail(400, "no acceptable subprotocol");
    } else {
      protocol = std::string_view(offer).substr(0, offer.find(','));
      while (!protocol.empty() && protocol.back() == ' ') protocol.remove_suffix(1);
    }
  }
  char accept[ws::kAcceptChars + 1];
  if (!ws::compute_accept(up.key, accept)) return fail(400, "bad Sec-WebSocket-Key");

  // permessage-deflate (RFC 7692): accepted when this connection may get compressed
  // messages; an offer we cannot honour is declined, the upgrade goes on.
  ws::DeflateParams deflate;
  std::string extensions;
  if (server_.config().compression_wanted(json, channel))
    (void)ws::negotiate_deflate(req, &deflate, &extensions);
  std::string response;
  ws::build_accept_response(&response, accept, protocol, extensions);
  if (!json) response.insert(response.size() - 2, raw_history_headers(server_, channel));
  std::string chan(json ? std::string_view() : channel);
  c->http->in.consume(head_len);
  auto session = std::make_unique<WsSession>(*c, json ? WsMode::kJson : WsMode::kRaw,
                                             server_.ws_limits_for(chan));
  session->raw_channel = std::move(chan);
  session->proto.set_deflate(deflate);
  session->access = std::move(access);
  const bool has_identity = conn_auth && conn_auth->who;
  std::optional<auth::Identity> who;
  if (has_identity) {
    who = std::move(conn_auth->who);
    // A moved-from optional stays engaged: set_identity() must see no identity yet, or
    // it takes this for a refresh and the raw connection never counts against its user.
    conn_auth->who.reset();
  }
  session->auth = std::move(conn_auth);
  // The 101 goes out first, as the head of the WebSocket queue.
  session->proto.out().push(FrameRef::copy_of(as_bytes(response)));
  // Bytes the client sent right after its head are already WebSocket frames.
  if (!c->http->in.empty()) session->proto.feed({c->http->in.data(), c->http->in.size()});
  // The HTTP session ends here: an idle WebSocket connection keeps none of it.
  c->http.reset();
  c->ws = std::move(session);
  server_.start_websocket(c);
  if (c->ws->auth && c->ws->auth->deadline_ms)
    server_.arm_no_later(c, c->ws->auth->deadline_ms);                 // /ws: the auth timeout
  if (who && !server_.set_identity(c, std::move(*who))) return false;  // arms its expiry
  const std::string& raw_channel = c->ws->raw_channel;
  spdlog::debug("client {} upgraded ({} {})", c->id, json ? "json" : "raw", raw_channel);

  if (!json) {
    const ChannelOptions& opts = server_.config().options_for(raw_channel);
    if (opts.max_subscribers &&
        server_.fanout().subscriber_count(raw_channel) >= opts.max_subscribers) {
      server_.begin_close(c, ws::close_code::kPolicyViolation, "channel is full", 1000);
      return false;
    }
    (void)server_.fanout().subscribe(WsMode::kRaw, c->ws->subscriber, raw_channel);
    if (opts.presence) server_.presence().join(raw_channel, *c, false);
    replay_raw(server_, c, *resume);
  }
  server_.process_ws_events(c);
  return false;
}

// limits.max_connections_per_ip: the connection counts against its client IP until it is
// freed (the slot in ConnectionAccess gives it back). Allocates `access` when caps or rate
// limits are configured.
bool HttpHandler::take_ip_slot(Client* c, const ws::HttpHead& req,
                               std::unique_ptr<ConnectionAccess>* access) noexcept {
  const Config& cfg = server_.config();
  const uint32_t per_ip = cfg.limits.max_connections_per_ip;
  if (per_ip || cfg.limits.max_connections_per_user || server_.access().rate_plan().any())
    *access = std::make_unique<ConnectionAccess>();
  if (!per_ip) return true;
  const std::string ip = server_.access().client_ip(c->fd, joined_header(req, "x-forwarded-for"),
                                                    joined_header(req, "forwarded"));
  if (server_.access().caps().acquire_ip(ip, per_ip, &(*access)->slots)) return true;
  server_.stats().count_refused(RefusedCause::kPerIp);
  return false;
}

// OPTIONS /channels/{name}: a CORS preflight (Access-Control-Request-Method) is answered for
// origins that may publish, and refused (403) for the rest; a plain OPTIONS lists the methods.
void HttpHandler::handle_preflight(Client* c, const ws::HttpHead& req, size_t head_len) noexcept {
  const std::string origin(req.header("origin"));
  const bool preflight = !origin.empty() && req.has_header("access-control-request-method");
  const bool allowed = preflight && origin_allowed(origin, req.header("host"));
  c->http->in.consume(head_len);
  if (!preflight) {
    respond(c, 204, {}, {}, "Allow: GET, POST, OPTIONS\r\n");
  } else if (!allowed) {
    respond(c, 403, "text/plain", "origin not allowed\n", "Vary: Origin\r\n");
  } else {
    respond(c, 204, {}, {},
            "Access-Control-Allow-Origin: " + origin +
                "\r\nAccess-Control-Allow-Methods: POST\r\n"
                "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
                "Access-Control-Max-Age: 600\r\nVary: Origin\r\n");
  }
}

void HttpHandler::respond(Client* c, int status, std::string_view type, std::string_view body,
                          std::string_view extra, bool head_only) noexcept {
  std::string out;
  std::string headers(extra);
  headers += c->http->cors_headers;  // an allowed cross-origin page may read the answer
  build_response(&out, status, type, body, c->http->keep_alive, headers, head_only);
  c->out().push(FrameRef::copy_of(as_bytes(out)));
  server_.mark_pending(c);
  if (!c->http->keep_alive) {
    c->phase = ClientPhase::kClosing;
    c->close_when_flushed = true;
    server_.set_close_deadline(c, server_.now_ms() + 5000);
  } else {
    c->http->deadline_ms = server_.now_ms() + server_.config().limits.handshake_timeout_ms;
    c->http->keep_alive_idle = true;
    server_.arm_no_later(c, c->http->deadline_ms);
  }
}

void HttpHandler::refuse(Client* c, int status, std::string_view body,
                         std::string_view extra) noexcept {
  c->http->keep_alive = false;
  c->http->in.clear();
  c->http->body_needed = 0;
  respond(c, status, "text/plain", body, extra);
}

}  // namespace relay::daemon
