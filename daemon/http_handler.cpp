// SPDX-License-Identifier: MIT
// HTTP on the public and metrics listeners: request heads, routes, the WebSocket
// upgrade (origin, subprotocol, limits), HTTP publish, health and metrics answers.
// Client-caused errors are counted and logged at debug, never at error (nginx does the same).
#include "http_handler.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "base/bytes.h"
#include "demo_page.h"
#include "http_routes.h"
#include "media_type.h"
#include "origin.h"
#include "pubsub/channel_name.h"
#include "server.h"

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

}  // namespace

void HttpHandler::process(Client* c) noexcept {
  const Limits& lim = server_.config().limits;
  ws::HttpLimits hl{lim.max_header_bytes, std::min<size_t>(lim.max_headers, ws::kMaxHttpHeaders)};
  while (c->phase == ClientPhase::kHttp) {
    if (c->http->publish_in_flight) {
      c->http->resume_after_publish = true;  // the answer comes first (keeps responses in order)
      return;
    }
    if (c->http->body_needed) {
      if (c->http->in.size() < c->http->body_needed) return;
      handle_publish_body(c, {c->http->in.data(), c->http->body_needed});
      c->http->in.consume(c->http->body_needed);
      c->http->body_needed = 0;
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
    if (!handle_request(c, req, head_len)) return;
  }
}

bool HttpHandler::handle_request(Client* c, const ws::HttpHead& req, size_t head_len) noexcept {
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
      else
        respond(c, 200, "text/plain", "ready\n", {}, head_only);
      return true;
    case RouteKind::kDemo:
      c->http->in.consume(head_len);
      respond(c, 200, "text/html; charset=utf-8", demo_page_html(), {}, head_only);
      return true;
    case RouteKind::kMetrics: {
      c->http->in.consume(head_len);
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
  c->http->in.consume(head_len);
  if (server_.draining()) {
    refuse(c, 503, "draining\n");
    return false;
  }
  if (!pubsub::is_valid_channel_name(channel)) {
    refuse(c, 400, "bad channel name\n");
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
  server_.broker().publish(make_message(c->http->publish_channel, kind, body, nullptr, false),
                           [this, c](const PublishResult& r) { on_published(c, r); });
}

void HttpHandler::on_published(Client* c, const PublishResult& r) noexcept {
  --c->publishes_in_flight;
  if (c->phase != ClientPhase::kHttp) return;  // closed meanwhile: nobody to answer
  HttpSession& h = *c->http;
  h.publish_in_flight = false;
  if (r.accepted)
    respond(c, 200, "application/json", "{\"delivered\":" + std::to_string(r.delivered) + "}\n");
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
  if (!is_origin_allowed(up.origin, up.host, server_.config().allowed_origins)) {
    refused_origins_.note(up.origin, up.host, server_.config().allowed_origins.has_value(),
                          server_.now_ms());
    return fail(403, "origin not allowed");
  }
  if (server_.websockets() >= server_.config().limits.max_connections)
    return fail(503, "too many connections");

  // Sec-WebSocket-Protocol: answer exactly one offered value, or refuse (RFC 6455 §4.2.2).
  std::string_view protocol;
  if (!up.protocols.empty()) {
    if (server_.config().subprotocols) {
      std::vector<std::string_view> supported(server_.config().subprotocols->begin(),
                                              server_.config().subprotocols->end());
      protocol = ws::choose_subprotocol(up.protocols, supported);
      if (protocol.empty()) return fail(400, "no acceptable subprotocol");
    } else {
      protocol = up.protocols.substr(0, up.protocols.find(','));
      while (!protocol.empty() && protocol.back() == ' ') protocol.remove_suffix(1);
    }
  }
  char accept[ws::kAcceptChars + 1];
  if (!ws::compute_accept(up.key, accept)) return fail(400, "bad Sec-WebSocket-Key");

  std::string response;
  ws::build_accept_response(&response, accept, protocol);
  std::string chan(json ? std::string_view() : channel);
  c->http->in.consume(head_len);
  auto session = std::make_unique<WsSession>(*c, json ? WsMode::kJson : WsMode::kRaw,
                                             server_.ws_limits_for(chan));
  session->raw_channel = std::move(chan);
  // The 101 goes out first, as the head of the WebSocket queue.
  session->proto.out().push(FrameRef::copy_of(as_bytes(response)));
  // Bytes the client sent right after its head are already WebSocket frames.
  if (!c->http->in.empty()) session->proto.feed({c->http->in.data(), c->http->in.size()});
  // The HTTP session ends here: an idle WebSocket connection keeps none of it.
  c->http.reset();
  c->ws = std::move(session);
  server_.start_websocket(c);
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
  }
  server_.process_ws_events(c);
  return false;
}

void HttpHandler::respond(Client* c, int status, std::string_view type, std::string_view body,
                          std::string_view extra, bool head_only) noexcept {
  std::string out;
  build_response(&out, status, type, body, c->http->keep_alive, extra, head_only);
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
