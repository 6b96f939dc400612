// SPDX-License-Identifier: MIT
// PatternIndex and pattern publishes through ChannelRegistry: the matching rules (`*` one
// segment, `>` one or more trailing ones), the trie against the reference matcher,
// once-only delivery when an exact name and patterns (or two patterns) match, removal and
// pruning, and many patterns.
#include "pubsub/pattern_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pubsub/channel_registry.h"

namespace relay::pubsub {
namespace {

struct CountSink final : Sink {
  int deliveries = 0;
  void deliver(const FrameRef&) noexcept override { ++deliveries; }
};

struct Client {
  CountSink sink;
  Subscriber sub{sink};
};

FrameRef frame() { return FrameRef::copy_of(std::as_bytes(std::span("x", 1))); }

TEST(PatternSyntax, ValidAndInvalid) {
  for (const char* ok : {"chat.*", "room.>", "*", ">", "*.*", "a.*.b", "a.*.>", "a-b.*"})
    EXPECT_TRUE(is_valid_pattern(ok)) << ok;
  for (const char* bad :
       {"", "chat", "chat*", "ch*t.a", "room.>.a", "a.>b", "a.b>", "a b.*", ">.>", "a.**"})
    EXPECT_FALSE(is_valid_pattern(bad)) << bad;
  EXPECT_FALSE(is_valid_pattern(std::string(199, 'a') + ".*"));
  EXPECT_TRUE(has_wildcard("a.>"));
  EXPECT_FALSE(has_wildcard("a.b"));
}

TEST(PatternSyntax, MatchingRules) {
  EXPECT_TRUE(pattern_matches("chat.*", "chat.a"));
  EXPECT_FALSE(pattern_matches("chat.*", "chat.a.b"));
  EXPECT_FALSE(pattern_matches("chat.*", "chat"));
  EXPECT_FALSE(pattern_matches("chat.*", "chatx.a"));
  EXPECT_TRUE(pattern_matches("room.>", "room.a"));
  EXPECT_TRUE(pattern_matches("room.>", "room.a.b.c"));
  EXPECT_FALSE(pattern_matches("room.>", "room"));
  EXPECT_FALSE(pattern_matches("room.>", "rooms.a"));
  EXPECT_TRUE(pattern_matches("*.b", "a.b"));
  EXPECT_FALSE(pattern_matches("*.b", "a.c"));
  EXPECT_TRUE(pattern_matches(">", "a"));
  EXPECT_TRUE(pattern_matches(">", "a.b"));
  EXPECT_TRUE(pattern_matches("*", "abc"));
  EXPECT_FALSE(pattern_matches("*", "a.b"));
  EXPECT_TRUE(pattern_matches("a.*.c.>", "a.x.c.d.e"));
  EXPECT_FALSE(pattern_matches("a.*.c.>", "a.x.c"));
}

TEST(PatternIndex, MatchFindsEachMatchingPatternOnce) {
  Client a, b;  // outlive the index (used alone, it does not own subscribers' lifetimes)
  PatternIndex idx;
  EXPECT_TRUE(idx.subscribe(a.sub, "chat.*"));
  EXPECT_FALSE(idx.subscribe(a.sub, "chat.*"));
  EXPECT_TRUE(idx.subscribe(b.sub, "chat.*"));
  EXPECT_TRUE(idx.subscribe(a.sub, "chat.>"));
  EXPECT_TRUE(idx.subscribe(a.sub, "*.general"));
  EXPECT_EQ(idx.size(), 3u);
  EXPECT_EQ(idx.memberships(), 4u);
  EXPECT_EQ(idx.match("chat.general").size(), 3u);
  EXPECT_EQ(idx.match("chat.random").size(), 2u);
  EXPECT_EQ(idx.match("chat.a.b").size(), 1u);
  EXPECT_EQ(idx.match("chat").size(), 0u);
  EXPECT_EQ(idx.match("other").size(), 0u);
  EXPECT_TRUE(idx.is_subscribed(a.sub, "chat.>"));
  EXPECT_FALSE(idx.is_subscribed(b.sub, "chat.>"));
}

TEST(PatternIndex, RemovalPrunesTheTrie) {
  Client a, b;  // outlive the index (used alone, it does not own subscribers' lifetimes)
  PatternIndex idx;
  ASSERT_TRUE(idx.subscribe(a.sub, "a.*.c.>"));
  ASSERT_TRUE(idx.subscribe(b.sub, "a.*.d"));
  const size_t nodes = idx.nodes();
  EXPECT_GT(nodes, 0u);
  EXPECT_TRUE(idx.unsubscribe(a.sub, "a.*.c.>"));
  EXPECT_FALSE(idx.unsubscribe(a.sub, "a.*.c.>"));
  EXPECT_LT(idx.nodes(), nodes);
  EXPECT_EQ(idx.match("a.x.c.y").size(), 0u);
  EXPECT_EQ(idx.match("a.x.d").size(), 1u);
  EXPECT_TRUE(idx.unsubscribe(b.sub, "a.*.d"));
  EXPECT_EQ(idx.nodes(), 0u);
  EXPECT_TRUE(idx.empty());
  EXPECT_EQ(b.sub.pattern_count(), 0u);
}

TEST(PatternPublish, ExactAndPatternsDeliverOnce) {
  ChannelRegistry reg;
  Client both, only_pattern, only_exact, two_patterns, elsewhere;
  (void)reg.subscribe(both.sub, "chat.general");
  ASSERT_TRUE(reg.subscribe_pattern(both.sub, "chat.*"));
  ASSERT_TRUE(reg.subscribe_pattern(only_pattern.sub, "chat.>"));
  (void)reg.subscribe(only_exact.sub, "chat.general");
  ASSERT_TRUE(reg.subscribe_pattern(two_patterns.sub, "chat.*"));
  ASSERT_TRUE(reg.subscribe_pattern(two_patterns.sub, "*.general"));
  ASSERT_TRUE(reg.subscribe_pattern(elsewhere.sub, "room.>"));

  EXPECT_EQ(reg.publish("chat.general", frame(), nullptr, false), 4u);
  EXPECT_EQ(both.sink.deliveries, 1);
  EXPECT_EQ(only_pattern.sink.deliveries, 1);
  EXPECT_EQ(only_exact.sink.deliveries, 1);
  EXPECT_EQ(two_patterns.sink.deliveries, 1);
  EXPECT_EQ(elsewhere.sink.deliveries, 0);

  // A name with pattern subscribers only has no Channel but is still delivered.
  EXPECT_EQ(reg.find("chat.random"), nullptr);
  EXPECT_EQ(reg.publish("chat.random", frame(), nullptr, false), 3u);
  EXPECT_EQ(both.sink.deliveries, 2);
  EXPECT_EQ(reg.publish("chat.a.b", frame(), nullptr, false), 1u);
  EXPECT_EQ(only_pattern.sink.deliveries, 3);
  EXPECT_EQ(reg.publish("room", frame(), nullptr, false), 0u);
}

TEST(PatternPublish, SenderSkippedUnlessEcho) {
  ChannelRegistry reg;
  Client a, b;
  ASSERT_TRUE(reg.subscribe_pattern(a.sub, "chat.*"));
  (void)reg.subscribe(a.sub, "chat.x");
  ASSERT_TRUE(reg.subscribe_pattern(b.sub, "chat.*"));
  EXPECT_EQ(reg.publish("chat.x", frame(), &a.sub, false), 1u);
  EXPECT_EQ(a.sink.deliveries, 0);
  EXPECT_EQ(reg.publish("chat.x", frame(), &a.sub, true), 2u);
  EXPECT_EQ(a.sink.deliveries, 1);
}

TEST(PatternPublish, UnsubscribeAllAndDestructionLeavePatterns) {
  ChannelRegistry reg;
  auto a = std::make_unique<Client>();
  Client b;
  (void)reg.subscribe(a->sub, "x");
  ASSERT_TRUE(reg.subscribe_pattern(a->sub, "chat.*"));
  ASSERT_TRUE(reg.subscribe_pattern(a->sub, "room.>"));
  ASSERT_TRUE(reg.subscribe_pattern(b.sub, "chat.*"));
  EXPECT_EQ(reg.unsubscribe_all(a->sub), 3u);
  EXPECT_EQ(a->sub.pattern_count(), 0u);
  EXPECT_EQ(reg.patterns().size(), 1u);
  ASSERT_TRUE(reg.subscribe_pattern(a->sub, "room.>"));
  a.reset();  // the destructor leaves its patterns
  EXPECT_EQ(reg.patterns().size(), 1u);
  EXPECT_EQ(reg.publish("room.a", frame(), nullptr, false), 0u);
  EXPECT_EQ(reg.publish("chat.a", frame(), nullptr, false), 1u);
  EXPECT_TRUE(reg.unsubscribe_pattern(b.sub, "chat.*"));
  EXPECT_TRUE(reg.patterns().empty());
}

TEST(PatternPublish, RegistryDestroyedFirstDetachesPatternSubscribers) {
  Client a;
  {
    ChannelRegistry reg;
    ASSERT_TRUE(reg.subscribe_pattern(a.sub, "chat.*"));
  }
  EXPECT_EQ(a.sub.pattern_count(), 0u);
}

// Many subscribers and patterns, random subscribes and unsubscribes: every publish
// reaches exactly the subscribers that a brute-force check says it should, once each.
TEST(PatternPublish, ManyPatternsAgainstReference) {
  const std::vector<std::string> segs = {"a", "b", "c"};
  std::vector<std::string> patterns, names;
  for (const auto& x : segs) {
    names.push_back(x);
    patterns.push_back(x + ".*");
    patterns.push_back(x + ".>");
    for (const auto& y : segs) {
      names.push_back(x + "." + y);
      patterns.push_back("*." + y);
      patterns.push_back(x + ".*." + y);
      for (const auto& z : segs) names.push_back(x + "." + y + "." + z);
    }
  }
  patterns.push_back(">");
  patterns.push_back("*");
  ChannelRegistry reg;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(std::make_unique<Client>());
  std::mt19937 rng(7);
  for (int step = 0; step < 2000; ++step) {
    Client& c = *clients[rng() % clients.size()];
    if (rng() % 3 == 0) {
      const std::string& n = names[rng() % names.size()];
      if (rng() % 2)
        (void)reg.subscribe(c.sub, n);
      else
        (void)reg.unsubscribe(c.sub, n);
    } else {
      const std::string& p = patterns[rng() % patterns.size()];
      if (rng() % 2)
        (void)reg.subscribe_pattern(c.sub, p);
      else
        (void)reg.unsubscribe_pattern(c.sub, p);
    }
    if (step % 50 != 0) continue;
    for (const std::string& n : names) {
      std::vector<int> before;
      for (auto& cl : clients) before.push_back(cl->sink.deliveries);
      size_t expected = 0;
      std::vector<bool> should(clients.size());
      for (size_t i = 0; i < clients.size(); ++i) {
        bool hit = reg.is_subscribed(clients[i]->sub, n);
        for (const std::string& p : patterns)
          hit = hit || (reg.is_subscribed_pattern(clients[i]->sub, p) && pattern_matches(p, n));
        should[i] = hit;
        expected += hit;
      }
      ASSERT_EQ(reg.publish(n, frame(), nullptr, false), expected) << n;
      for (size_t i = 0; i < clients.size(); ++i)
        ASSERT_EQ(clients[i]->sink.deliveries - before[i], should[i] ? 1 : 0) << n << " " << i;
    }
  }
  for (auto& c : clients) reg.unsubscribe_all(c->sub);
  EXPECT_TRUE(reg.patterns().empty());
  EXPECT_EQ(reg.patterns().nodes(), 0u);
}

}  // namespace
}  // namespace relay::pubsub
