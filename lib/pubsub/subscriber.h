// SPDX-License-Identifier: MIT
// Sink and Subscriber: the two things a daemon client embeds to receive fan-out.
// A Sink is where delivered frames go (the client's OutQueue); a Subscriber is the
// client's membership list, so leaving every channel on disconnect costs O(channels
// of this subscriber), not a scan of the registry. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/frame_ref.h"
#include "base/small_vector.h"

namespace relay::pubsub {

class Channel;
class ChannelRegistry;
class Pattern;
class PatternIndex;

// Receives a reference to a published frame. The daemon's client implements it by
// pushing `frame` (a refcount increment, never a copy) into its OutQueue and putting
// itself on the pending-write list once; the flush happens in the reactor's
// before-sleep hook, so everything published in one turn leaves in one writev.
// deliver() runs inside ChannelRegistry::publish(): it must not subscribe or
// unsubscribe anyone (that asserts). A client over its queue limit marks itself for
// closing and is unsubscribed later, outside the publish.
class Sink {
 public:
  virtual void deliver(const FrameRef& frame) noexcept = 0;

 protected:
  ~Sink() = default;  // never deleted through a Sink*
};

// One per client. Not copyable or movable: channels point at it. Destroying a
// subscriber leaves all its channels (not allowed during a publish).
class Subscriber {
 public:
  explicit Subscriber(Sink& sink) noexcept : sink_(&sink) {}
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  ~Subscriber();

  Sink& sink() const noexcept { return *sink_; }
  size_t channel_count() const noexcept { return channels_.size(); }
  // The name of the i-th channel joined (0 <= i < channel_count()); the order changes
  // when a channel is left.
  std::string_view channel_name(size_t i) const noexcept;
  // Pattern subscriptions (`chat.*`), counted apart from channels.
  size_t pattern_count() const noexcept { return patterns_.size(); }

 private:
  friend class ChannelRegistry;
  friend class PatternIndex;
  // This subscriber's side of one membership; slot is its index in
  // channel->members_, kept exact across swap-removes on both sides.
  struct Membership {
    Channel* channel;
    uint32_t slot;
  };
  struct PatternMembership {
    Pattern* pattern;
    uint32_t slot;  // index in pattern->members_
  };
  Sink* sink_;
  ChannelRegistry* registry_ = nullptr;  // set on the first subscribe
  SmallVector<Membership> channels_;     // one channel (a raw connection): inline
  std::vector<PatternMembership> patterns_;
  // The registry's publish generation this subscriber last received: a message reaching
  // it through an exact name and patterns (or two patterns) is delivered once.
  uint64_t stamp_ = 0;
};

}  // namespace relay::pubsub
