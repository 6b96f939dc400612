// SPDX-License-Identifier: MIT
// WebSocket clients: engine events, the raw relay, the JSON protocol, and fan-out.
// Fan-out encodes each message at most twice (raw bytes, JSON delivery), once for all
// subscribers, and queues references: no per-subscriber copy, no allocation per delivery.
#include <spdlog/spdlog.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "pubsub/channel_name.h"
#include "server.h"

namespace relay::daemon {

ws::Limits Server::ws_limits_for(std::string_view channel) const noexcept {
  ws::Limits l;
  l.max_message_bytes = config_.limits.max_message_bytes;
  if (!channel.empty()) {
    const ChannelOptions& opts = config_.options_for(channel);
    if (opts.max_message_bytes) l.max_message_bytes = opts.max_message_bytes;
  }
  l.max_fragments = config_.limits.max_fragments;
  return l;
}

void Server::process_ws_events(Client* c) noexcept {
  while (c->phase == ClientPhase::kWebSocket || c->phase == ClientPhase::kClosing) {
    ws::Event ev = c->ws->poll_event();
    switch (ev.kind) {
      case ws::EventKind::kNeedMore:
        if (c->ws->has_pending_output()) mark_pending(c);
        return;
      case ws::EventKind::kMessage:
        if (c->phase != ClientPhase::kWebSocket) break;  // closing: input is discarded
        ++stats_.messages_received;
        stats_.bytes_received += ev.payload.size();
        on_message(c, ev.text, ev.payload);
        break;
      case ws::EventKind::kPing:
      case ws::EventKind::kPong:
        break;  // pongs to pings are queued by the engine
      case ws::EventKind::kClose: {
        // RFC 6455 §5.5.1: answer a close with a close (echoing the code), then the
        // server closes the TCP connection first (§7.1.1).
        uint16_t code = ev.code ? ev.code : ws::close_code::kNoStatus;
        if (!c->close_code) c->close_code = code;
        spdlog::debug("client {}: close {} received", c->id, code);
        if (c->phase == ClientPhase::kWebSocket) begin_close(c, ev.code, {}, 1000);
        c->close_when_flushed = true;
        mark_pending(c);
        return;
      }
      case ws::EventKind::kError:
        spdlog::debug("client {}: protocol error, closing with {}", c->id, ev.code);
        c->close_code = ev.code;
        begin_close(c, ev.code, {}, 1000);
        c->close_when_flushed = true;
        mark_pending(c);
        return;
    }
  }
}

void Server::on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept {
  if (c->mode == ClientMode::kJson) {
    if (!text) {
      send_text(c,
                wire::encode_error("", wire::code::kBadRequest, "requests are JSON text frames"));
      return;
    }
    on_json_request(c, {reinterpret_cast<const char*>(payload.data()), payload.size()});
    return;
  }
  const ChannelOptions& opts = config_.options_for(c->raw_channel);
  if (opts.publish == PublishRight::kHttp) {
    begin_close(c, ws::close_code::kPolicyViolation, "publishing is not allowed here", 1000);
    return;
  }
  ++stats_.published_ws;
  publish(c->raw_channel, text ? wire::PayloadKind::kText : wire::PayloadKind::kBinary, payload, c);
}

void Server::send_text(Client* c, const std::string& text) noexcept {
  (void)c->ws->send_message(true, as_bytes(text));
  mark_pending(c);
}

void Server::on_json_request(Client* c, std::string_view text) noexcept {
  wire::Error err;
  std::optional<wire::Request> req = wire::parse_request(text, &err);
  if (!req) {
    send_text(c, wire::encode_error(err.id_json, err.code, err.reason));
    return;
  }
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
  if (!pubsub::is_valid_channel_name(req->channel))
    return reply_error(wire::code::kBadChannel, "bad channel name");
  const ChannelOptions& opts = config_.options_for(req->channel);
  switch (req->op) {
    case wire::Op::kSubscribe:
      if (json_channels_.is_subscribed(c->subscriber, req->channel))
        return reply_error(wire::code::kAlreadySubscribed, "already subscribed");
      if (c->subscriber.channel_count() >= config_.limits.max_channels_per_client)
        return reply_error(wire::code::kLimit, "too many channels on this connection");
      if (opts.max_subscribers && subscriber_count(req->channel) >= opts.max_subscribers)
        return reply_error(wire::code::kLimit, "channel is full");
      (void)json_channels_.subscribe(c->subscriber, req->channel);
      return reply_ack();
    case wire::Op::kUnsubscribe:
      if (!json_channels_.unsubscribe(c->subscriber, req->channel))
        return reply_error(wire::code::kNotSubscribed, "not subscribed");
      return reply_ack();
    case wire::Op::kPublish: {
      if (opts.publish == PublishRight::kHttp)
        return reply_error(wire::code::kForbidden,
                           "publishing on this channel is not allowed for clients");
      size_t limit =
          opts.max_message_bytes ? opts.max_message_bytes : config_.limits.max_message_bytes;
      if (req->payload.size() > limit)
        return reply_error(wire::code::kTooLarge, "message too large");
      if (req->kind == wire::PayloadKind::kText && !ws::is_valid_utf8(as_bytes(req->payload)))
        return reply_error(wire::code::kBadRequest, "text is not UTF-8");
      ++stats_.published_ws;
      size_t n = publish(req->channel, req->kind, as_bytes(req->payload), c);
      if (!req->id_json.empty()) send_text(c, wire::encode_publish_ack(req->id_json, n));
      return;
    }
    case wire::Op::kPing:
      return;
  }
}

size_t Server::publish(std::string_view channel, wire::PayloadKind kind,
                       std::span<const std::byte> payload, Client* sender) noexcept {
  const bool echo = config_.options_for(channel).echo;
  pubsub::Subscriber* from = sender ? &sender->subscriber : nullptr;
  const int64_t stamp = monotonic_ns();
  size_t delivered = 0;
  if (pubsub::Channel* ch = raw_channels_.find(channel)) {
    FrameRef raw = ws::prepare_server_frame(
        kind == wire::PayloadKind::kBinary ? ws::Opcode::kBinary : ws::Opcode::kText, payload);
    raw.set_stamp_ns(stamp);
    delivered += raw_channels_.publish(*ch, raw, from, echo);
  }
  if (pubsub::Channel* ch = json_channels_.find(channel)) {
    std::string text = wire::encode_delivery(channel, kind, payload);
    FrameRef js = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
    js.set_stamp_ns(stamp);
    delivered += json_channels_.publish(*ch, js, from, echo);
  }
  stats_.messages_delivered += delivered;
  stats_.bytes_delivered += delivered * payload.size();
  return delivered;
}

size_t Server::subscriber_count(std::string_view channel) const noexcept {
  return raw_channels_.subscribers(channel) + json_channels_.subscribers(channel);
}

size_t Server::channel_count() noexcept {
  // A name with both raw and JSON subscribers is one channel.
  bool raw_smaller = raw_channels_.channels() <= json_channels_.channels();
  pubsub::ChannelRegistry& small = raw_smaller ? raw_channels_ : json_channels_;
  const pubsub::ChannelRegistry& large = raw_smaller ? json_channels_ : raw_channels_;
  size_t shared = 0;
  small.for_each_channel(
      [&](const pubsub::Channel& ch) { shared += large.find(ch.name()) != nullptr; });
  return raw_channels_.channels() + json_channels_.channels() - shared;
}

}  // namespace relay::daemon
