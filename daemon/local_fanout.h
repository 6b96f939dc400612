// SPDX-License-Identifier: MIT
// LocalFanout: this node's subscribers and the delivery of a message to them. Raw-relay
// and JSON subscribers are kept in two registries: each fans out its own prepared frame
// (the raw bytes, or the JSON delivery), encoded once per message and shared by
// reference by every subscriber (no per-subscriber copy, no allocation per delivery).
// It tells the Broker when a channel gets its first local subscriber and loses its last.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "base/frame_ref.h"
#include "broker.h"
#include "compressed_frames.h"
#include "config.h"
#include "pubsub/channel_registry.h"
#include "stats.h"

namespace relay::daemon {

// What a WebSocket connection speaks: the raw relay on one channel, or the JSON protocol.
enum class WsMode : uint8_t { kRaw, kJson };

class LocalFanout final : public FanoutTarget {
 public:
  explicit LocalFanout(Stats& stats) noexcept : stats_(stats), compressed_(stats) {}
  void attach(Broker& broker) noexcept { broker_ = &broker; }
  // The channel options (compression); without a config nothing is compressed.
  void use_config(const Config* config) noexcept { config_ = config; }

  // As ChannelRegistry's, plus the broker's node-level (un)subscribe.
  pubsub::SubscribeResult subscribe(WsMode mode, pubsub::Subscriber& sub, std::string_view name);
  bool unsubscribe(WsMode mode, pubsub::Subscriber& sub, std::string_view name) noexcept;
  void unsubscribe_all(WsMode mode, pubsub::Subscriber& sub) noexcept;
  bool is_subscribed(WsMode mode, const pubsub::Subscriber& sub,
                     std::string_view name) const noexcept {
    return registry(mode).is_subscribed(sub, name);
  }

  // Pattern subscriptions (`chat.*`, `room.>`): /ws only. The broker is told whether the
  // node has any (Broker::patterns): a backplane then sends it every channel.
  bool subscribe_pattern(pubsub::Subscriber& sub, std::string_view pattern);
  bool unsubscribe_pattern(pubsub::Subscriber& sub, std::string_view pattern) noexcept;
  bool is_subscribed_pattern(const pubsub::Subscriber& sub,
                             std::string_view pattern) const noexcept {
    return json_.is_subscribed_pattern(sub, pattern);
  }

  size_t subscriber_count(std::string_view channel) const noexcept;
  size_t channel_count() noexcept;  // a name with raw and JSON subscribers counts once

  size_t fan_out(const Message& m) noexcept override;
  // Each exact subscriber of the channel (raw and /ws) is handed to `hook` (the server
  // closes it with 4009 and the reason).
  void history_lost(std::string_view channel, const char* reason) noexcept override;
  using LostHook = std::function<void(pubsub::Sink& subscriber, const char* reason)>;
  void on_history_lost(LostHook hook) { lost_hook_ = std::move(hook); }
  // The frame the last fan_out() queued (null when it queued none); the publisher keeps
  // it to see how far its subscribers are behind (Server::charge_publish, README "Design").
  FrameRef take_last_frame() noexcept { return std::move(last_frame_); }

  // Inside a delivery: the frame a subscriber that agreed to permessage-deflate gets for
  // `plain` (the shared compressed frame, or `plain`). See compressed_frames.h.
  const FrameRef& frame_for(const FrameRef& plain, const ws::DeflateParams& p) noexcept {
    return compressed_.frame_for(plain, p);
  }

 private:
  pubsub::ChannelRegistry& registry(WsMode mode) noexcept {
    return mode == WsMode::kRaw ? raw_ : json_;
  }
  const pubsub::ChannelRegistry& registry(WsMode mode) const noexcept {
    return mode == WsMode::kRaw ? raw_ : json_;
  }
  const pubsub::ChannelRegistry& other(WsMode mode) const noexcept {
    return mode == WsMode::kRaw ? json_ : raw_;
  }

  // Tells the broker when this node gets its first pattern subscriber or loses its last.
  void sync_patterns() noexcept;

  Stats& stats_;
  Broker* broker_ = nullptr;
  bool patterns_told_ = false;  // what the broker was last told
  pubsub::ChannelRegistry raw_;
  pubsub::ChannelRegistry json_;
  const Config* config_ = nullptr;
  CompressedFrames compressed_;
  FrameRef last_frame_;
  LostHook lost_hook_;
};

}  // namespace relay::daemon
