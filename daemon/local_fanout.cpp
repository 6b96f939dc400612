// SPDX-License-Identifier: MIT
// Local fan-out: each message encoded at most twice (raw frame, JSON delivery frame).
#include "local_fanout.h"

#include <string>

#include "base/assert.h"
#include "base/bytes.h"
#include "ws/frame.h"

namespace relay::daemon {

pubsub::SubscribeResult LocalFanout::subscribe(WsMode mode, pubsub::Subscriber& sub,
                                               std::string_view name) {
  pubsub::SubscribeResult r = registry(mode).subscribe(sub, name);
  if (r.created && !other(mode).find(name) && broker_) broker_->subscribe(name);
  return r;
}

bool LocalFanout::unsubscribe(WsMode mode, pubsub::Subscriber& sub,
                              std::string_view name) noexcept {
  if (!registry(mode).unsubscribe(sub, name)) return false;
  if (broker_ && subscriber_count(name) == 0) broker_->unsubscribe(name);
  return true;
}

void LocalFanout::unsubscribe_all(WsMode mode, pubsub::Subscriber& sub) noexcept {
  const pubsub::ChannelRegistry& rest = other(mode);
  registry(mode).unsubscribe_all(sub, [&](const pubsub::Channel& ch) {
    if (broker_ && ch.subscriber_count() == 1 && !rest.find(ch.name()))
      broker_->unsubscribe(ch.name());
  });
}

size_t LocalFanout::subscriber_count(std::string_view channel) const noexcept {
  return raw_.subscribers(channel) + json_.subscribers(channel);
}

size_t LocalFanout::channel_count() noexcept {
  bool raw_smaller = raw_.channels() <= json_.channels();
  pubsub::ChannelRegistry& small = raw_smaller ? raw_ : json_;
  const pubsub::ChannelRegistry& large = raw_smaller ? json_ : raw_;
  size_t shared = 0;
  small.for_each_channel(
      [&](const pubsub::Channel& ch) { shared += large.find(ch.name()) != nullptr; });
  return raw_.channels() + json_.channels() - shared;
}

size_t LocalFanout::fan_out(const Message& m) noexcept {
  size_t delivered = 0;
  last_frame_.reset();
  if (pubsub::Channel* ch = raw_.find(m.channel)) {
    FrameRef raw = ws::prepare_server_frame(
        m.kind == wire::PayloadKind::kBinary ? ws::Opcode::kBinary : ws::Opcode::kText, m.payload);
    raw.set_stamp_ns(m.stamp_ns);
    delivered += raw_.publish(*ch, raw, m.sender, m.echo);
    last_frame_ = std::move(raw);
  }
  if (pubsub::Channel* ch = json_.find(m.channel)) {
    std::string text = wire::encode_delivery(m.channel, m.kind, m.payload);
    FrameRef js = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
    js.set_stamp_ns(m.stamp_ns);
    delivered += json_.publish(*ch, js, m.sender, m.echo);
    if (!last_frame_ || js.use_count() > last_frame_.use_count()) last_frame_ = std::move(js);
  }
  stats_.messages_delivered += delivered;
  stats_.bytes_delivered += delivered * m.payload.size();
  return delivered;
}

}  // namespace relay::daemon
