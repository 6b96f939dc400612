// SPDX-License-Identifier: MIT
// The raw relay: every message of a /channels/{name} connection is published on that
// channel, as it came (text or binary); no acks.
#include "raw_relay.h"

#include "server.h"

namespace relay::daemon {

void RawRelay::on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept {
  const std::string& channel = c->ws->raw_channel;
  const ChannelOptions& opts = server_.config().options_for(channel);  // once per publish
  if (opts.publish == PublishRight::kHttp) {
    server_.begin_close(c, ws::close_code::kPolicyViolation, "publishing is not allowed here",
                        1000);
    return;
  }
  if (server_.access().check_publish_rate(c->ws->access, server_.config(), opts, payload.size(),
                                          server_.now_ms())) {
    server_.stats().count_rate_limited(RateLimitedPath::kRaw);
    server_.begin_close(c, ws::close_code::kPolicyViolation, "rate limit exceeded", 1000);
    return;
  }
  // Channel rights (auth.mode optional/required): once per published message, never per
  // delivery. A raw connection has no error replies, so a refusal closes it.
  if (const AuthRuntime& a = server_.auth(); a.enabled()) {
    const ConnAuth* ca = c->ws->auth.get();
    const auth::Identity* who = ca && ca->who ? &*ca->who : nullptr;
    if (auth::may_publish(a.mode, who, channel, opts.access) != auth::Access::kAllowed) {
      server_.begin_close(c, ws::close_code::kPolicyViolation,
                          "the token does not grant publishing here", 1000);
      return;
    }
  }
  ++server_.stats().published_ws;
  // A raw connection has no error replies: a publish the broker refused (Redis down)
  // closes it with 1013 "try again later". The completion keeps the client allocated.
  ++c->publishes_in_flight;
  server_.broker().publish(
      make_message(channel, text ? wire::PayloadKind::kText : wire::PayloadKind::kBinary, payload,
                   &c->ws->subscriber, opts),
      [this, c](const PublishResult& r) {
        --c->publishes_in_flight;
        if (!r.accepted && c->phase == ClientPhase::kWebSocket)
          server_.begin_close(c, ws::close_code::kTryAgainLater, "broker unavailable", 1000);
      });
}

}  // namespace relay::daemon
