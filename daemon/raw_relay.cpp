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
  ++server_.stats().published_ws;
  server_.broker().publish(
      make_message(channel, text ? wire::PayloadKind::kText : wire::PayloadKind::kBinary, payload,
                   &c->ws->subscriber, opts),
      nullptr);
}

}  // namespace relay::daemon
