// SPDX-License-Identifier: MIT
// ChannelRegistry: two-sided membership records with O(1) swap-remove, and the
// publish loop. See channel_registry.h for the layout and the rules.
#include "pubsub/channel_registry.h"

#include "base/assert.h"

namespace relay::pubsub {

Subscriber::~Subscriber() {
  if (registry_ && (!channels_.empty() || !patterns_.empty())) registry_->unsubscribe_all(*this);
}

std::string_view Subscriber::channel_name(size_t i) const noexcept {
  RELAY_ASSERT(i < channels_.size());
  return channels_[i].channel->name();
}

ChannelRegistry::~ChannelRegistry() {
  for (auto& entry : channels_) {
    for (Channel::Member& m : entry.second.members_) {
      m.sub->channels_.clear();
      m.sub->registry_ = nullptr;
    }
  }
  patterns_.detach_all();
}

void ChannelRegistry::assert_not_iterating() const noexcept {
  // A subscribe or unsubscribe from inside publish() or for_each_channel() would
  // reshuffle the vector being walked: defer it (mark the client, act in before-sleep).
  RELAY_ASSERT(iterating_ == 0);
}

SubscribeResult ChannelRegistry::subscribe(Subscriber& sub, std::string_view name) {
  assert_not_iterating();
  RELAY_ASSERT(is_valid_channel_name(name));
  RELAY_ASSERT(sub.registry_ == nullptr || sub.registry_ == this);
  bool created = false;
  auto it = channels_.find(name);
  if (it == channels_.end()) {
    it = channels_.try_emplace(std::string(name)).first;
    it->second.name_ = &it->first;  // node-based map: the key never moves
    created = true;
  }
  Channel* ch = &it->second;
  if (!created) {
    for (const Subscriber::Membership& m : sub.channels_)
      if (m.channel == ch) return SubscribeResult{SubscribeStatus::kAlreadySubscribed, ch, false};
  }
  RELAY_ASSERT(ch->members_.size() < UINT32_MAX && sub.channels_.size() < UINT32_MAX);
  ch->members_.push_back(Channel::Member{&sub, sub.sink_, uint32_t(sub.channels_.size())});
  sub.channels_.push_back(Subscriber::Membership{ch, uint32_t(ch->members_.size() - 1)});
  sub.registry_ = this;
  ++memberships_;
  return SubscribeResult{SubscribeStatus::kSubscribed, ch, created};
}

// Removes sub's index-th membership from both sides. Each side is a swap with its
// last element; the moved element's partner record gets its new index.
void ChannelRegistry::leave(Subscriber& sub, size_t index) noexcept {
  Channel* ch = sub.channels_[index].channel;
  const uint32_t slot = sub.channels_[index].slot;

  SmallVector<Channel::Member>& members = ch->members_;
  if (slot + 1 != members.size()) {
    members[slot] = members.back();
    members[slot].sub->channels_[members[slot].slot].slot = slot;
  }
  members.pop_back();

  SmallVector<Subscriber::Membership>& mine = sub.channels_;
  if (index + 1 != mine.size()) {
    mine[index] = mine.back();
    mine[index].channel->members_[mine[index].slot].slot = uint32_t(index);
  }
  mine.pop_back();
  --memberships_;

  if (members.empty()) {
    auto it = channels_.find(*ch->name_);
    RELAY_ASSERT(it != channels_.end());
    channels_.erase(it);
  }
}

bool ChannelRegistry::unsubscribe(Subscriber& sub, std::string_view name) noexcept {
  assert_not_iterating();
  Channel* ch = find(name);
  if (!ch) return false;
  for (size_t i = 0; i < sub.channels_.size(); ++i) {
    if (sub.channels_[i].channel == ch) {
      leave(sub, i);
      return true;
    }
  }
  return false;
}

size_t ChannelRegistry::unsubscribe_all(Subscriber& sub) noexcept {
  return unsubscribe_all(sub, [](const Channel&) {});
}

size_t ChannelRegistry::publish(std::string_view name, const FrameRef& frame,
                                const Subscriber* sender, bool echo) noexcept {
  return publish(targets(name), frame, sender, echo);
}

size_t ChannelRegistry::publish(const PublishTargets& t, const FrameRef& frame,
                                const Subscriber* sender, bool echo) noexcept {
  if (t.patterns.empty()) return t.channel ? publish(*t.channel, frame, sender, echo) : 0;
  IterationGuard guard(*this);
  const uint64_t gen = ++generation_;
  const Subscriber* skip = echo ? nullptr : sender;
  size_t delivered = 0;
  auto offer = [&](Subscriber* sub, Sink* sink) {
    if (sub == skip || sub->stamp_ == gen) return;
    sub->stamp_ = gen;
    sink->deliver(frame);
    ++delivered;
  };
  if (t.channel)
    for (const Channel::Member& m : t.channel->members_) offer(m.sub, m.sink);
  for (Pattern* p : t.patterns)
    for (const Pattern::Member& m : p->members_) offer(m.sub, m.sink);
  return delivered;
}

bool ChannelRegistry::subscribe_pattern(Subscriber& sub, std::string_view pattern) {
  assert_not_iterating();
  RELAY_ASSERT(sub.registry_ == nullptr || sub.registry_ == this);
  if (!patterns_.subscribe(sub, pattern)) return false;
  sub.registry_ = this;
  return true;
}

bool ChannelRegistry::unsubscribe_pattern(Subscriber& sub, std::string_view pattern) noexcept {
  assert_not_iterating();
  return patterns_.unsubscribe(sub, pattern);
}

size_t ChannelRegistry::publish(Channel& channel, const FrameRef& frame, const Subscriber* sender,
                                bool echo) noexcept {
  IterationGuard guard(*this);
  const Subscriber* skip = echo ? nullptr : sender;
  size_t delivered = 0;
  for (const Channel::Member& m : channel.members_) {
    if (m.sub == skip) continue;
    m.sink->deliver(frame);  // a reference: the Sink's OutQueue takes a refcount
    ++delivered;
  }
  return delivered;
}

Channel* ChannelRegistry::find(std::string_view name) noexcept {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : &it->second;
}

const Channel* ChannelRegistry::find(std::string_view name) const noexcept {
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : &it->second;
}

bool ChannelRegistry::is_subscribed(const Subscriber& sub, std::string_view name) const noexcept {
  const Channel* ch = find(name);
  if (!ch) return false;
  for (const Subscriber::Membership& m : sub.channels_)
    if (m.channel == ch) return true;
  return false;
}

size_t ChannelRegistry::subscribers(std::string_view name) const noexcept {
  const Channel* ch = find(name);
  return ch ? ch->subscriber_count() : 0;
}

}  // namespace relay::pubsub
