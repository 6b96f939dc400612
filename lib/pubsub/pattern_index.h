// SPDX-License-Identifier: MIT
// PatternIndex: NATS-style pattern subscriptions (`chat.*`, `room.>`) and the patterns
// that match a published channel name. Segments are separated by '.'; `*` stands for
// exactly one segment, `>` (last segment only) for one or more trailing segments.
//
// Layout: a trie over segments with one exact child per literal segment, one `*` child,
// and on each node the pattern ending there and the pattern "<path>.>" (as uWebSockets'
// old TopicTree). match() walks the name's segments down the exact and `*` branches only,
// so its cost is bounded by the name's segments and the patterns that match, not by the
// number of patterns; an index without patterns costs one empty() check. Each Pattern
// keeps two-sided membership records with its Subscribers (swap-remove, as Channel).
// Owned by a ChannelRegistry; one thread, no locks, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pubsub/channel_name.h"
#include "pubsub/subscriber.h"

namespace relay::pubsub {

inline constexpr char kSegmentSeparator = '.';

// Does `text` use a wildcard character at all ('*' or '>', outside the name alphabet)?
constexpr bool has_wildcard(std::string_view text) noexcept {
  return text.find_first_of("*>") != std::string_view::npos;
}
// A pattern: 1..200 bytes, '.'-separated segments of name characters, at least one
// segment `*` or a last segment `>`; a wildcard never shares a segment with other text.
bool is_valid_pattern(std::string_view text) noexcept;
// The matching rule on its own (tests, and a reference for the trie): does `pattern`
// (valid) match channel `name` (valid)?
bool pattern_matches(std::string_view pattern, std::string_view name) noexcept;

// One pattern and its subscribers. Stays valid until its last subscriber leaves.
class Pattern {
 public:
  std::string_view text() const noexcept { return text_; }
  size_t subscriber_count() const noexcept { return members_.size(); }

 private:
  friend class PatternIndex;
  friend class ChannelRegistry;
  struct Member {
    Subscriber* sub;
    Sink* sink;
    uint32_t slot;  // index in sub->patterns_
  };
  std::string_view text_;  // points at the index's key
  std::vector<Member> members_;
  void* node_ = nullptr;  // the trie node holding it
  bool tail_ = false;     // it is that node's `>` pattern
};

class PatternIndex {
 public:
  PatternIndex();
  ~PatternIndex();
  PatternIndex(const PatternIndex&) = delete;
  PatternIndex& operator=(const PatternIndex&) = delete;

  // Joins sub to `pattern` (valid, asserted); false when it was already a member.
  bool subscribe(Subscriber& sub, std::string_view pattern);
  bool unsubscribe(Subscriber& sub, std::string_view pattern) noexcept;
  // Removes sub's index-th pattern membership (unsubscribe_all walks them backwards).
  void leave(Subscriber& sub, size_t index) noexcept;
  bool is_subscribed(const Subscriber& sub, std::string_view pattern) const noexcept;

  // The patterns matching channel `name`, each once, in a scratch vector that the next
  // call reuses (no allocation once it has grown). Empty when there are no patterns.
  std::span<Pattern* const> match(std::string_view name) noexcept;

  bool empty() const noexcept { return patterns_.empty(); }
  size_t size() const noexcept { return patterns_.size(); }
  size_t nodes() const noexcept { return nodes_; }  // trie nodes besides the root (tests)
  size_t memberships() const noexcept { return memberships_; }
  // Forgets every subscriber without touching them further (the registry's destructor).
  void detach_all() noexcept;

 private:
  struct Node;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  void walk(const Node& node, std::string_view rest, bool more) noexcept;
  Pattern* create(std::string_view text);
  void erase(Pattern* p) noexcept;

  std::unique_ptr<Node> root_;
  std::unordered_map<std::string, Pattern, NameHash, std::equal_to<>> patterns_;
  std::vector<Pattern*> matched_;  // match()'s scratch
  size_t nodes_ = 0;
  size_t memberships_ = 0;
};

}  // namespace relay::pubsub
