// SPDX-License-Identifier: MIT
// ChannelRegistry: named channels and who is subscribed to them, and publish(): one
// prepared FrameRef handed by reference to every subscriber's Sink (no copy of the
// payload, no allocation per delivery), as Dragonfly's channel_store and uWebSockets'
// TopicTree. One reactor thread owns a registry; nothing here locks, logs or does I/O.
//
// Layout: unordered_map<std::string, Channel> with heterogeneous lookup, so finding a
// channel by string_view allocates nothing. Each Channel holds a vector of members,
// each Subscriber a vector of memberships (SmallVectors: the first record inline, so a
// channel with one subscriber and a subscriber of one channel need no heap block, and a
// map node is one 96-byte malloc chunk); each side stores its index in the other,
// so subscribe and unsubscribe are O(1) swap-removes once the membership is found
// (found by scanning the subscriber's own list: O(channels of that subscriber), so the
// daemon caps channels per client). A channel is created by its first subscribe and
// erased when its last subscriber leaves.
//
// Mutation while iterating is a bug: publish() and for_each_channel() hold an
// IterationGuard, and subscribe/unsubscribe/unsubscribe_all assert it is not held
// (uWebSockets' checkIteratingSubscriber).
//
// Patterns (`chat.*`, `room.>`) live in a PatternIndex beside the map, so an exact
// publish stays one hash lookup and one vector walk plus one "any patterns?" check.
// targets() finds the channel and the matching patterns; publish(targets) delivers to
// each subscriber once, deduplicated by a per-publish generation stamp on the
// Subscriber (no allocation). A name with only pattern subscribers has no Channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/frame_ref.h"
#include "base/small_vector.h"
#include "pubsub/channel_name.h"
#include "pubsub/pattern_index.h"
#include "pubsub/subscriber.h"

namespace relay::pubsub {

// A named channel. Owned by the registry; a Channel* stays valid until the channel is
// erased (its last subscriber left), so don't keep one across turns.
class Channel {
 public:
  std::string_view name() const noexcept { return *name_; }
  size_t subscriber_count() const noexcept { return members_.size(); }
  // The i-th member's sink (0 <= i < subscriber_count()), outside a publish.
  Sink& sink(size_t i) const noexcept { return *members_[i].sink; }

 private:
  friend class ChannelRegistry;
  // The channel's side of one membership; slot is its index in sub->channels_.
  struct Member {
    Subscriber* sub;
    Sink* sink;  // copied from sub so the publish loop touches one array
    uint32_t slot;
  };
  const std::string* name_ = nullptr;  // the registry's key for this channel
  SmallVector<Member> members_;        // one subscriber: inline, no heap block
};

enum class SubscribeStatus : uint8_t {
  kSubscribed,         // a new membership
  kAlreadySubscribed,  // nothing changed
};
// Who a publish on one name reaches: its channel (null when none) and the patterns that
// match it (a view of a scratch vector, valid until the next targets() call).
struct PublishTargets {
  Channel* channel = nullptr;
  std::span<Pattern* const> patterns;
  bool empty() const noexcept { return channel == nullptr && patterns.empty(); }
};

struct SubscribeResult {
  SubscribeStatus status;
  Channel* channel;  // the channel joined (never null)
  bool created;      // the channel did not exist before (its first subscriber here)
};

class ChannelRegistry {
 public:
  ChannelRegistry() = default;
  ChannelRegistry(const ChannelRegistry&) = delete;
  ChannelRegistry& operator=(const ChannelRegistry&) = delete;
  // Detaches any subscribers still present (their destructors then do nothing).
  ~ChannelRegistry();

  // Joins sub to `name`, creating the channel when absent (the only allocation: the
  // key and the vectors' growth). name must satisfy is_valid_channel_name() (asserted;
  // the daemon validates client input first). Limits such as max_subscribers are the
  // caller's policy: check find(name)->subscriber_count() before calling.
  // A subscriber belongs to one registry for its whole life.
  SubscribeResult subscribe(Subscriber& sub, std::string_view name);
  // Leaves `name`; false when sub was not subscribed. Erases the channel when empty.
  bool unsubscribe(Subscriber& sub, std::string_view name) noexcept;
  // Leaves every channel and pattern (on disconnect). Returns how many were left.
  size_t unsubscribe_all(Subscriber& sub) noexcept;
  // The same, calling before_leave(const Channel&) for each channel just before sub
  // leaves it (subscriber_count() still counts sub), e.g. to notice a last subscriber.
  template <typename F>
  size_t unsubscribe_all(Subscriber& sub, F&& before_leave) noexcept {
    assert_not_iterating();
    size_t n = sub.channels_.size() + sub.patterns_.size();
    while (!sub.channels_.empty()) {
      before_leave(static_cast<const Channel&>(*sub.channels_.back().channel));
      leave(sub, sub.channels_.size() - 1);
    }
    while (!sub.patterns_.empty()) patterns_.leave(sub, sub.patterns_.size() - 1);
    return n;
  }

  // Hands `frame` to the Sink of every subscriber of the channel, in subscription
  // order up to swap-removes, except `sender` unless echo is true. sender may be null
  // (an HTTP publish) or a non-subscriber. Returns the number of deliveries (0 when the
  // channel does not exist). No allocation, one virtual call per delivery.
  size_t publish(std::string_view name, const FrameRef& frame, const Subscriber* sender,
                 bool echo) noexcept;
  size_t publish(Channel& channel, const FrameRef& frame, const Subscriber* sender,
                 bool echo) noexcept;
  // The channel and patterns a publish on `name` reaches: the caller encodes its frame
  // only when !empty(). A Sink must not call targets() from deliver().
  PublishTargets targets(std::string_view name) noexcept {
    return PublishTargets{find(name), patterns_.match(name)};
  }
  // Delivers to every subscriber of targets once (an exact subscription and matching
  // patterns, or two patterns, still give one delivery).
  size_t publish(const PublishTargets& targets, const FrameRef& frame, const Subscriber* sender,
                 bool echo) noexcept;

  // Pattern subscriptions: `pattern` must satisfy is_valid_pattern() (asserted). They do
  // not create channels; subscribe_pattern returns false when already subscribed.
  bool subscribe_pattern(Subscriber& sub, std::string_view pattern);
  bool unsubscribe_pattern(Subscriber& sub, std::string_view pattern) noexcept;
  bool is_subscribed_pattern(const Subscriber& sub, std::string_view pattern) const noexcept {
    return patterns_.is_subscribed(sub, pattern);
  }
  const PatternIndex& patterns() const noexcept { return patterns_; }

  Channel* find(std::string_view name) noexcept;
  const Channel* find(std::string_view name) const noexcept;
  bool is_subscribed(const Subscriber& sub, std::string_view name) const noexcept;
  size_t channels() const noexcept { return channels_.size(); }
  size_t subscribers(std::string_view name) const noexcept;     // 0 when absent
  size_t memberships() const noexcept { return memberships_; }  // over all channels

  // Calls f(Channel&) for every channel (e.g. to count names shared with another
  // registry); f must not subscribe or unsubscribe (asserted).
  template <typename F>
  void for_each_channel(F&& f) {
    IterationGuard guard(*this);
    for (auto& entry : channels_) f(entry.second);
  }

  // Held while iterating; mutations assert that none is held. Nesting is fine (a
  // Sink may publish elsewhere from deliver()).
  class IterationGuard {
   public:
    explicit IterationGuard(ChannelRegistry& r) noexcept : r_(r) { ++r_.iterating_; }
    ~IterationGuard() { --r_.iterating_; }
    IterationGuard(const IterationGuard&) = delete;
    IterationGuard& operator=(const IterationGuard&) = delete;

   private:
    ChannelRegistry& r_;
  };
  bool is_iterating() const noexcept { return iterating_ != 0; }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Map = std::unordered_map<std::string, Channel, NameHash, std::equal_to<>>;

  void leave(Subscriber& sub, size_t index) noexcept;
  void assert_not_iterating() const noexcept;

  Map channels_;
  PatternIndex patterns_;
  uint64_t generation_ = 0;  // publish(targets)'s dedupe stamp
  size_t memberships_ = 0;
  int iterating_ = 0;
};

}  // namespace relay::pubsub
