// SPDX-License-Identifier: MIT
// Pattern subscriptions on /ws (README "Pattern subscriptions"): subscribe and
// unsubscribe of `chat.*` / `room.>`. Deliveries name the concrete channel; a pattern has
// no history, so `recover` with a pattern is refused (400). A pattern counts against
// limits.max_channels_per_client like a channel.
#include "base/bytes.h"
#include "json_protocol.h"
#include "pubsub/pattern_index.h"
#include "server.h"

namespace relay::daemon {

void JsonProtocol::on_pattern_request(Client* c, const wire::Request& req,
                                      std::string_view text) noexcept {
  auto reply_error = [&](int code, std::string_view reason) {
    send_text(c, wire::encode_error(req.id_json, code, reason));
  };
  auto reply_ack = [&]() {
    if (!req.id_json.empty()) send_text(c, wire::encode_ack(req.id_json));
  };
  if (req.op != wire::Op::kSubscribe && req.op != wire::Op::kUnsubscribe)
    return reply_error(wire::code::kBadChannel, "bad channel name");
  if (!pubsub::is_valid_pattern(req.channel))
    return reply_error(wire::code::kBadChannel, "bad channel pattern");
  pubsub::Subscriber& sub = c->ws->subscriber;
  LocalFanout& fanout = server_.fanout();
  if (req.op == wire::Op::kUnsubscribe) {
    if (!fanout.unsubscribe_pattern(sub, req.channel))
      return reply_error(wire::code::kNotSubscribed, "not subscribed");
    return reply_ack();
  }
  if (wire::member_text(text, "recover"))
    return reply_error(wire::code::kBadRequest, "recover is not available with a pattern");
  if (fanout.is_subscribed_pattern(sub, req.channel))
    return reply_error(wire::code::kAlreadySubscribed, "already subscribed");
  if (sub.channel_count() + sub.pattern_count() >= server_.config().limits.max_channels_per_client)
    return reply_error(wire::code::kLimit, "too many channels on this connection");
  (void)fanout.subscribe_pattern(sub, req.channel);
  reply_ack();
}

}  // namespace relay::daemon
