// SPDX-License-Identifier: MIT
// Local fan-out: each message encoded at most twice (raw frame, JSON delivery frame), and
// each of those compressed at most once (per window size) for deflate subscribers.
#include "local_fanout.h"

#include <string>
#include <vector>

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
  if (mode == WsMode::kJson) sync_patterns();
}

bool LocalFanout::subscribe_pattern(pubsub::Subscriber& sub, std::string_view pattern) {
  const bool added = json_.subscribe_pattern(sub, pattern);
  sync_patterns();
  return added;
}

bool LocalFanout::unsubscribe_pattern(pubsub::Subscriber& sub, std::string_view pattern) noexcept {
  const bool left = json_.unsubscribe_pattern(sub, pattern);
  sync_patterns();
  return left;
}

void LocalFanout::sync_patterns() noexcept {
  const bool any = !json_.patterns().empty();
  if (any == patterns_told_ || !broker_) return;
  patterns_told_ = any;
  broker_->patterns(any);
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
  static const CompressionOptions kOff;
  const CompressionOptions& z = config_ ? config_->options_for(m.channel).compression : kOff;
  if (pubsub::Channel* ch = raw_.find(m.channel)) {
    const ws::Opcode op =
        m.kind == wire::PayloadKind::kBinary ? ws::Opcode::kBinary : ws::Opcode::kText;
    FrameRef raw = ws::prepare_server_frame(op, m.payload);
    raw.set_stamp_ns(m.stamp_ns);
    compressed_.begin(raw, op, m.payload, z);
    delivered += raw_.publish(*ch, raw, m.sender, m.echo);
    compressed_.end();
    last_frame_ = std::move(raw);
  }
  // Exact subscribers and pattern subscribers (`chat.*`) alike, each once.
  if (pubsub::PublishTargets t = json_.targets(m.channel); !t.empty()) {
    std::string text = wire::encode_delivery(m.channel, m.kind, m.payload, m.offset);
    FrameRef js = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
    js.set_stamp_ns(m.stamp_ns);
    compressed_.begin(js, ws::Opcode::kText, as_bytes(text), z);
    delivered += json_.publish(t, js, m.sender, m.echo);
    compressed_.end();
    if (!last_frame_ || js.use_count() > last_frame_.use_count()) last_frame_ = std::move(js);
  }
  stats_.messages_delivered += delivered;
  stats_.bytes_delivered += delivered * m.payload.size();
  return delivered;
}

void LocalFanout::history_lost(std::string_view channel, const char* reason) noexcept {
  if (!lost_hook_) return;
  // Collected first: closing a client unsubscribes it, which would change the channels.
  std::vector<pubsub::Sink*> told;
  for (pubsub::ChannelRegistry* r : {&raw_, &json_})
    if (const pubsub::Channel* ch = r->find(channel))
      for (size_t i = 0; i < ch->subscriber_count(); ++i) told.push_back(&ch->sink(i));
  for (pubsub::Sink* s : told) lost_hook_(*s, reason);
}

}  // namespace relay::daemon
