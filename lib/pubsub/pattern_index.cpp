// SPDX-License-Identifier: MIT
// PatternIndex: the segment trie, its two-sided membership records and match(). See
// pattern_index.h for the rules.
#include "pubsub/pattern_index.h"

#include "base/assert.h"

namespace relay::pubsub {

struct PatternIndex::Node {
  Node* parent = nullptr;
  std::string segment;  // this node's key in parent->children ("*" for parent->star)
  std::unordered_map<std::string, std::unique_ptr<Node>, NameHash, std::equal_to<>> children;
  std::unique_ptr<Node> star;
  Pattern* here = nullptr;  // the pattern that ends at this node
  Pattern* tail = nullptr;  // the pattern "<this node's path>.>"
  bool unused() const noexcept { return !here && !tail && !star && children.empty(); }
};

namespace {

// Splits off the first segment of `rest`; `more` says whether another one follows.
std::string_view next_segment(std::string_view& rest, bool& more) noexcept {
  const size_t dot = rest.find(kSegmentSeparator);
  std::string_view seg = rest.substr(0, dot);
  more = dot != std::string_view::npos;
  rest = more ? rest.substr(dot + 1) : std::string_view{};
  return seg;
}

}  // namespace

bool is_valid_pattern(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxChannelName) return false;
  bool wildcard = false, more = true;
  std::string_view rest = text;
  while (more) {
    const std::string_view seg = next_segment(rest, more);
    if (seg == "*") {
      wildcard = true;
    } else if (seg == ">") {
      if (more) return false;  // `>` only as the last segment
      wildcard = true;
    } else {
      for (char c : seg)
        if (!is_channel_name_char(c)) return false;  // '*' and '>' are not name characters
    }
  }
  return wildcard;
}

bool pattern_matches(std::string_view pattern, std::string_view name) noexcept {
  bool pmore = true, nmore = true;
  while (pmore) {
    const std::string_view p = next_segment(pattern, pmore);
    if (p == ">") return nmore;  // one or more segments left
    if (!nmore) return false;
    const std::string_view n = next_segment(name, nmore);
    if (p != "*" && p != n) return false;
  }
  return !nmore;
}

PatternIndex::PatternIndex() : root_(std::make_unique<Node>()) {}

PatternIndex::~PatternIndex() { detach_all(); }

void PatternIndex::detach_all() noexcept {
  for (auto& entry : patterns_) {
    for (Pattern::Member& m : entry.second.members_) {
      m.sub->patterns_.clear();
      m.sub->registry_ = nullptr;
    }
    entry.second.members_.clear();
  }
}

Pattern* PatternIndex::create(std::string_view text) {
  auto it = patterns_.try_emplace(std::string(text)).first;
  Pattern* p = &it->second;
  p->text_ = it->first;  // node-based map: the key never moves
  Node* node = root_.get();
  std::string_view rest = text;
  bool more = true;
  while (more) {
    const std::string_view seg = next_segment(rest, more);
    if (seg == ">") {
      p->tail_ = true;
      break;
    }
    std::unique_ptr<Node>* child = nullptr;
    if (seg == "*") {
      child = &node->star;
    } else {
      auto found = node->children.find(seg);
      if (found == node->children.end()) found = node->children.try_emplace(std::string(seg)).first;
      child = &found->second;
    }
    if (!*child) {
      *child = std::make_unique<Node>();
      (*child)->parent = node;
      (*child)->segment = std::string(seg);
      ++nodes_;
    }
    node = child->get();
  }
  (p->tail_ ? node->tail : node->here) = p;
  p->node_ = node;
  return p;
}

// The pattern's last subscriber left: unhook it and prune the nodes nothing uses.
void PatternIndex::erase(Pattern* p) noexcept {
  Node* node = static_cast<Node*>(p->node_);
  (p->tail_ ? node->tail : node->here) = nullptr;
  while (node != root_.get() && node->unused()) {
    Node* parent = node->parent;
    if (node->segment == "*" && parent->star.get() == node)
      parent->star.reset();
    else
      parent->children.erase(parent->children.find(node->segment));
    --nodes_;
    node = parent;
  }
  patterns_.erase(patterns_.find(p->text_));
}

bool PatternIndex::subscribe(Subscriber& sub, std::string_view text) {
  RELAY_ASSERT(is_valid_pattern(text));
  Pattern* p = nullptr;
  if (auto it = patterns_.find(text); it != patterns_.end()) {
    p = &it->second;
    for (const Subscriber::PatternMembership& m : sub.patterns_)
      if (m.pattern == p) return false;
  } else {
    p = create(text);
  }
  RELAY_ASSERT(p->members_.size() < UINT32_MAX && sub.patterns_.size() < UINT32_MAX);
  p->members_.push_back(Pattern::Member{&sub, sub.sink_, uint32_t(sub.patterns_.size())});
  sub.patterns_.push_back(Subscriber::PatternMembership{p, uint32_t(p->members_.size() - 1)});
  ++memberships_;
  return true;
}

void PatternIndex::leave(Subscriber& sub, size_t index) noexcept {
  Pattern* p = sub.patterns_[index].pattern;
  const uint32_t slot = sub.patterns_[index].slot;
  std::vector<Pattern::Member>& members = p->members_;
  if (slot + 1 != members.size()) {
    members[slot] = members.back();
    members[slot].sub->patterns_[members[slot].slot].slot = slot;
  }
  members.pop_back();
  std::vector<Subscriber::PatternMembership>& mine = sub.patterns_;
  if (index + 1 != mine.size()) {
    mine[index] = mine.back();
    mine[index].pattern->members_[mine[index].slot].slot = uint32_t(index);
  }
  mine.pop_back();
  --memberships_;
  if (members.empty()) erase(p);
}

bool PatternIndex::unsubscribe(Subscriber& sub, std::string_view text) noexcept {
  for (size_t i = 0; i < sub.patterns_.size(); ++i) {
    if (sub.patterns_[i].pattern->text() == text) {
      leave(sub, i);
      return true;
    }
  }
  return false;
}

bool PatternIndex::is_subscribed(const Subscriber& sub, std::string_view text) const noexcept {
  for (const Subscriber::PatternMembership& m : sub.patterns_)
    if (m.pattern->text() == text) return true;
  return false;
}

// Each trie path is one pattern, so every pattern reached is reached once.
void PatternIndex::walk(const Node& node, std::string_view rest, bool more) noexcept {
  if (!more) {
    if (node.here) matched_.push_back(node.here);
    return;
  }
  if (node.tail) matched_.push_back(node.tail);  // `>`: one or more segments remain
  bool next_more = false;
  const std::string_view seg = next_segment(rest, next_more);
  if (!node.children.empty()) {
    if (auto it = node.children.find(seg); it != node.children.end())
      walk(*it->second, rest, next_more);
  }
  if (node.star) walk(*node.star, rest, next_more);
}

std::span<Pattern* const> PatternIndex::match(std::string_view name) noexcept {
  matched_.clear();
  if (patterns_.empty()) return {};
  walk(*root_, name, true);
  return matched_;
}

}  // namespace relay::pubsub
