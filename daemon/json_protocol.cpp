// SPDX-License-Identifier: MIT
// The JSON protocol on /ws (README "The JSON protocol on /ws"): subscribe, unsubscribe,
// publish and ping requests of one connection, answered with acks and errors.
#include "json_protocol.h"

#include "base/bytes.h"
#include "pubsub/channel_name.h"
#include "pubsub/pattern_index.h"
#include "server.h"

namespace relay::daemon {

void JsonProtocol::on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept {
  if (!text) {
    if (!before_auth_ok(c, nullptr, "")) return;
    send_text(c, wire::encode_error("", wire::code::kBadRequest, "requests are JSON text frames"));
    return;
  }
  on_request(c, as_text(payload));
}

void JsonProtocol::send_text(Client* c, const std::string& text) noexcept {
  (void)c->ws->proto.send_message(true, as_bytes(text));
  server_.note_queued(c);  // replies count against the client's queue limit too
  server_.mark_pending(c);
}

void JsonProtocol::on_request(Client* c, std::string_view text) noexcept {
  wire::Error err;
  std::optional<wire::Request> req = wire::parse_request(text, &err);
  if (!before_auth_ok(c, req ? &*req : nullptr, req ? req->id_json : err.id_json)) return;
  if (!req) {
    send_text(c, wire::encode_error(err.id_json, err.code, err.reason));
    return;
  }
  if (req->op == wire::Op::kAuth || req->op == wire::Op::kRefresh) return on_auth(c, *req);
  auto reply_error = [&](int code, std::string_view reason) {
    send_text(c, wire::encode_error(req->id_json, code, reason));
  };
  auto reply_ack = [&]() {
    if (!req->id_json.empty()) send_text(c, wire::encode_ack(req->id_json));
  };
  if (req->op == wire::Op::kPing) {
    reply_ack();
    return;
  }
  // No history through patterns (README "History and recovery").
  if (req->recover && req->channel.find_first_of("*>") != std::string::npos)
    return reply_error(wire::code::kBadRequest, "recover needs an exact channel name");
  if (req->op != wire::Op::kPublish && pubsub::has_wildcard(req->channel))
    return on_pattern_request(c, *req, text);  // json_patterns.cpp
  if (!pubsub::is_valid_channel_name(req->channel))
    return reply_error(wire::code::kBadChannel, "bad channel name");
  const ChannelOptions& opts = server_.config().options_for(req->channel);  // once per request
  pubsub::Subscriber& sub = c->ws->subscriber;
  if (req->op != wire::Op::kUnsubscribe && !may(c, *req, opts)) return;
  switch (req->op) {
    case wire::Op::kSubscribe:
      if (server_.fanout().is_subscribed(WsMode::kJson, sub, req->channel))
        return reply_error(wire::code::kAlreadySubscribed, "already subscribed");
      if (sub.channel_count() + sub.pattern_count() >=
          server_.config().limits.max_channels_per_client)
        return reply_error(wire::code::kLimit, "too many channels on this connection");
      if (opts.max_subscribers &&
          server_.fanout().subscriber_count(req->channel) >= opts.max_subscribers)
        return reply_error(wire::code::kLimit, "channel is full");
      (void)server_.fanout().subscribe(WsMode::kJson, sub, req->channel);
      return after_subscribe(c, *req, opts);
    case wire::Op::kUnsubscribe:
      if (!server_.fanout().unsubscribe(WsMode::kJson, sub, req->channel))
        return reply_error(wire::code::kNotSubscribed, "not subscribed");
      // Whatever the options say now (a reload may have turned presence off).
      server_.presence().leave(req->channel, *c);
      return reply_ack();
    case wire::Op::kPublish: {
      if (opts.publish == PublishRight::kHttp)
        return reply_error(wire::code::kForbidden,
                           "publishing on this channel is not allowed for clients");
      size_t limit = opts.max_message_bytes ? opts.max_message_bytes
                                            : server_.config().limits.max_message_bytes;
      if (req->payload.size() > limit)
        return reply_error(wire::code::kTooLarge, "message too large");
      if (req->kind == wire::PayloadKind::kText && !ws::is_valid_utf8(as_bytes(req->payload)))
        return reply_error(wire::code::kBadRequest, "text is not UTF-8");
      if (server_.access().check_publish_rate(c->ws->access, server_.config(), opts,
                                              req->payload.size(), server_.now_ms())) {
        server_.stats().count_rate_limited(RateLimitedPath::kWs);
        return reply_error(wire::code::kLimit, "rate limit exceeded");
      }
      ++server_.stats().published_ws;
      Message m = make_message(req->channel, req->kind, as_bytes(req->payload), &sub, opts);
      if (req->id_json.empty()) {
        // No ack asked for, but a refusal (Redis down) is still told ("id": null); the
        // completion keeps the client (the sender) allocated.
        ++c->publishes_in_flight;
        return server_.broker().publish(m, [this, c](const PublishResult& r) {
          --c->publishes_in_flight;
          if (!r.accepted && c->phase == ClientPhase::kWebSocket)
            send_text(c, wire::encode_error({}, wire::code::kUnavailable, "publish failed"));
        });
      }
      // The ack goes out when the broker has accepted the message (now, or later).
      ++c->publishes_in_flight;
      server_.broker().publish(m, [this, c, id = std::move(req->id_json)](const PublishResult& r) {
        --c->publishes_in_flight;
        if (c->phase != ClientPhase::kWebSocket) return;  // closing or gone: no reply
        if (r.accepted)
          send_text(c, wire::encode_publish_ack(id, r.delivered, r.offset));
        else
          send_text(c, wire::encode_error(id, wire::code::kUnavailable, "publish failed"));
      });
      return;
    }
    case wire::Op::kHistory:
      return on_history(c, *req, opts);
    case wire::Op::kPresence:
      return on_presence(c, *req, opts);
    case wire::Op::kPing:
    case wire::Op::kAuth:
    case wire::Op::kRefresh:
      return;
  }
}

}  // namespace relay::daemon
