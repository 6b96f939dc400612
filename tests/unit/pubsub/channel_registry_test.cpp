// SPDX-License-Identifier: MIT
// ChannelRegistry: membership counts, publish (echo, sender excluded), channel
// lifetime, unsubscribe-all, one shared FrameRef, the swap-remove bookkeeping against a
// reference model, and the IterationGuard death tests.
#include "pubsub/channel_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/out_queue.h"

namespace relay::pubsub {
namespace {

// The daemon's client in miniature: queue a reference, count deliveries.
struct QueueSink final : Sink {
  OutQueue queue;
  int deliveries = 0;
  void deliver(const FrameRef& frame) noexcept override {
    queue.push(frame);
    ++deliveries;
  }
};

struct Client {
  QueueSink sink;
  Subscriber sub{sink};
};

FrameRef frame_of(std::string_view text) {
  return FrameRef::copy_of(std::as_bytes(std::span(text.data(), text.size())));
}

TEST(ChannelRegistry, SubscribeCreatesChannelAndCounts) {
  ChannelRegistry reg;
  Client a, b;
  auto r = reg.subscribe(a.sub, "chat");
  EXPECT_EQ(r.status, SubscribeStatus::kSubscribed);
  EXPECT_TRUE(r.created);
  ASSERT_NE(r.channel, nullptr);
  EXPECT_EQ(r.channel->name(), "chat");
  EXPECT_EQ(reg.find("chat"), r.channel);

  auto r2 = reg.subscribe(b.sub, "chat");
  EXPECT_EQ(r2.status, SubscribeStatus::kSubscribed);
  EXPECT_FALSE(r2.created);
  EXPECT_EQ(r2.channel, r.channel);

  auto again = reg.subscribe(a.sub, "chat");
  EXPECT_EQ(again.status, SubscribeStatus::kAlreadySubscribed);
  EXPECT_FALSE(again.created);

  EXPECT_EQ(reg.channels(), 1u);
  EXPECT_EQ(reg.subscribers("chat"), 2u);
  EXPECT_EQ(reg.subscribers("other"), 0u);
  EXPECT_EQ(reg.memberships(), 2u);
  EXPECT_EQ(a.sub.channel_count(), 1u);
  EXPECT_EQ(a.sub.channel_name(0), "chat");
  EXPECT_TRUE(reg.is_subscribed(a.sub, "chat"));
  EXPECT_FALSE(reg.is_subscribed(a.sub, "other"));
}

TEST(ChannelRegistry, PublishSkipsSenderUnlessEcho) {
  ChannelRegistry reg;
  Client a, b, c, outsider;
  for (Client* x : {&a, &b, &c}) (void)reg.subscribe(x->sub, "room");
  FrameRef f = frame_of("hello");

  EXPECT_EQ(reg.publish("room", f, &a.sub, /*echo=*/false), 2u);
  EXPECT_EQ(a.sink.deliveries, 0);
  EXPECT_EQ(b.sink.deliveries, 1);
  EXPECT_EQ(c.sink.deliveries, 1);

  EXPECT_EQ(reg.publish("room", f, &a.sub, /*echo=*/true), 3u);
  EXPECT_EQ(a.sink.deliveries, 1);
  EXPECT_EQ(b.sink.deliveries, 2);

  EXPECT_EQ(reg.publish("room", f, nullptr, false), 3u);        // HTTP publish
  EXPECT_EQ(reg.publish("room", f, &outsider.sub, false), 3u);  // not a member
  EXPECT_EQ(outsider.sink.deliveries, 0);
  EXPECT_EQ(reg.publish("nobody-here", f, nullptr, false), 0u);
  EXPECT_EQ(reg.channels(), 1u);  // publishing never creates a channel

  Channel* ch = reg.find("room");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(reg.publish(*ch, f, &b.sub, false), 2u);
  EXPECT_EQ(b.sink.deliveries, 4);
  EXPECT_EQ(c.sink.deliveries, 5);
}

TEST(ChannelRegistry, UnsubscribeErasesEmptyChannel) {
  ChannelRegistry reg;
  Client a, b;
  (void)reg.subscribe(a.sub, "x");
  (void)reg.subscribe(b.sub, "x");
  EXPECT_TRUE(reg.unsubscribe(a.sub, "x"));
  EXPECT_FALSE(reg.unsubscribe(a.sub, "x"));
  EXPECT_FALSE(reg.unsubscribe(a.sub, "never"));
  EXPECT_EQ(reg.subscribers("x"), 1u);
  EXPECT_EQ(reg.channels(), 1u);
  EXPECT_TRUE(reg.unsubscribe(b.sub, "x"));
  EXPECT_EQ(reg.channels(), 0u);
  EXPECT_EQ(reg.find("x"), nullptr);
  EXPECT_EQ(reg.memberships(), 0u);
  EXPECT_EQ(reg.publish("x", frame_of("m"), nullptr, false), 0u);
  EXPECT_EQ(b.sink.deliveries, 0);
  // Re-creating it starts fresh.
  auto r = reg.subscribe(a.sub, "x");
  EXPECT_TRUE(r.created);
}

TEST(ChannelRegistry, UnsubscribeAllLeavesEveryChannel) {
  ChannelRegistry reg;
  Client a, b;
  for (const char* n : {"c1", "c2", "c3", "c4", "c5"}) (void)reg.subscribe(a.sub, n);
  (void)reg.subscribe(b.sub, "c2");
  (void)reg.subscribe(b.sub, "c4");
  EXPECT_EQ(reg.channels(), 5u);
  EXPECT_EQ(reg.unsubscribe_all(a.sub), 5u);
  EXPECT_EQ(a.sub.channel_count(), 0u);
  EXPECT_EQ(reg.channels(), 2u);  // c2 and c4 still have b
  EXPECT_EQ(reg.subscribers("c2"), 1u);
  EXPECT_EQ(reg.subscribers("c4"), 1u);
  EXPECT_EQ(reg.find("c1"), nullptr);
  EXPECT_EQ(reg.memberships(), 2u);
  EXPECT_EQ(reg.unsubscribe_all(a.sub), 0u);
  EXPECT_EQ(reg.publish("c4", frame_of("m"), nullptr, false), 1u);
  EXPECT_EQ(a.sink.deliveries, 0);
}

TEST(ChannelRegistry, DestroyedSubscriberLeavesItsChannels) {
  ChannelRegistry reg;
  Client keep;
  (void)reg.subscribe(keep.sub, "shared");
  {
    Client gone;
    (void)reg.subscribe(gone.sub, "shared");
    (void)reg.subscribe(gone.sub, "solo");
    EXPECT_EQ(reg.channels(), 2u);
  }
  EXPECT_EQ(reg.channels(), 1u);
  EXPECT_EQ(reg.subscribers("shared"), 1u);
  EXPECT_EQ(reg.publish("shared", frame_of("m"), nullptr, false), 1u);
}

TEST(ChannelRegistry, RegistryDestroyedBeforeSubscribers) {
  auto a = std::make_unique<Client>();
  {
    ChannelRegistry reg;
    (void)reg.subscribe(a->sub, "x");
    (void)reg.subscribe(a->sub, "y");
  }
  EXPECT_EQ(a->sub.channel_count(), 0u);
  a.reset();  // must not touch the dead registry (ASan)
}

TEST(ChannelRegistry, ForEachChannel) {
  ChannelRegistry reg;
  Client a;
  auto r = reg.subscribe(a.sub, "one");
  ASSERT_TRUE(r.created);
  (void)reg.subscribe(a.sub, "two");
  std::set<std::string> seen;
  reg.for_each_channel([&](Channel& ch) { seen.insert(std::string(ch.name())); });
  EXPECT_EQ(seen, (std::set<std::string>{"one", "two"}));
}

// before_leave sees each channel while sub still counts in it: a subscriber count of 1
// there means sub was the channel's last subscriber.
TEST(ChannelRegistry, UnsubscribeAllReportsEachChannelBeforeLeaving) {
  ChannelRegistry reg;
  Client a, b;
  (void)reg.subscribe(a.sub, "shared");
  (void)reg.subscribe(b.sub, "shared");
  (void)reg.subscribe(a.sub, "alone");
  std::set<std::string> last;
  size_t left = reg.unsubscribe_all(a.sub, [&](const Channel& ch) {
    if (ch.subscriber_count() == 1) last.insert(std::string(ch.name()));
  });
  EXPECT_EQ(left, 2u);
  EXPECT_EQ(last, (std::set<std::string>{"alone"}));
  EXPECT_EQ(reg.subscribers("shared"), 1u);
  EXPECT_EQ(reg.find("alone"), nullptr);
}

// One FrameRef reaches every subscriber by reference: the refcount rises by the number
// of deliveries and every queue points at the same bytes.
TEST(ChannelRegistry, OneFrameSharedByAllSubscribers) {
  ChannelRegistry reg;
  constexpr int kN = 1000;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kN; ++i) {
    clients.push_back(std::make_unique<Client>());
    (void)reg.subscribe(clients.back()->sub, "wide");
  }
  FrameRef f = frame_of(std::string(4096, 'p'));
  ASSERT_EQ(f.use_count(), 1u);
  EXPECT_EQ(reg.publish("wide", f, &clients[0]->sub, false), size_t(kN - 1));
  EXPECT_EQ(f.use_count(), uint32_t(kN));  // ours + 999 queued references
  EXPECT_EQ(clients[0]->sink.queue.frames(), 0u);
  for (int i = 1; i < kN; ++i) {
    iovec iov[2];
    ASSERT_EQ(clients[i]->sink.queue.gather(iov, 2), 1);
    EXPECT_EQ(iov[0].iov_base, static_cast<const void*>(f.data()));  // no copy
    EXPECT_EQ(iov[0].iov_len, f.size());
  }
  for (auto& c : clients) c->sink.queue.clear();
  EXPECT_EQ(f.use_count(), 1u);
}

// Random subscribe/unsubscribe/unsubscribe_all against a std::map model; after every
// step each channel's count and each publish's recipients must match the model. This
// exercises the two-sided slot bookkeeping of the swap-removes.
TEST(ChannelRegistry, MatchesReferenceModelUnderRandomChurn) {
  ChannelRegistry reg;
  constexpr int kClients = 40, kChannels = 12, kSteps = 4000;
  std::vector<std::unique_ptr<Client>> c;
  for (int i = 0; i < kClients; ++i) c.push_back(std::make_unique<Client>());
  std::map<std::string, std::set<int>> model;
  std::mt19937 rng(7);
  FrameRef f = frame_of("x");
  for (int step = 0; step < kSteps; ++step) {
    int who = int(rng() % kClients);
    std::string name = "ch." + std::to_string(rng() % kChannels);
    unsigned op = rng() % 10;
    if (op < 5) {
      auto r = reg.subscribe(c[who]->sub, name);
      bool fresh = model[name].insert(who).second;
      ASSERT_EQ(r.status == SubscribeStatus::kSubscribed, fresh);
    } else if (op < 9) {
      bool was = model.count(name) && model[name].erase(who);
      ASSERT_EQ(reg.unsubscribe(c[who]->sub, name), was);
      if (model.count(name) && model[name].empty()) model.erase(name);
    } else {
      size_t n = 0;
      for (auto it = model.begin(); it != model.end();) {
        n += it->second.erase(who);
        it = it->second.empty() ? model.erase(it) : std::next(it);
      }
      ASSERT_EQ(reg.unsubscribe_all(c[who]->sub), n);
    }
    ASSERT_EQ(reg.channels(), model.size());
    // Publish on one channel and compare recipients with the model.
    std::string probe = "ch." + std::to_string(rng() % kChannels);
    std::vector<int> before(kClients);
    for (int i = 0; i < kClients; ++i) before[i] = c[i]->sink.deliveries;
    size_t expect = model.count(probe) ? model[probe].size() : 0;
    ASSERT_EQ(reg.subscribers(probe), expect);
    ASSERT_EQ(reg.publish(probe, f, nullptr, false), expect);
    for (int i = 0; i < kClients; ++i) {
      bool member = model.count(probe) && model[probe].count(i);
      ASSERT_EQ(c[i]->sink.deliveries - before[i], member ? 1 : 0) << "step " << step;
      ASSERT_EQ(reg.is_subscribed(c[i]->sub, probe), member);
      c[i]->sink.queue.clear();
    }
  }
  size_t total = 0;
  for (auto& [n, s] : model) total += s.size();
  EXPECT_EQ(reg.memberships(), total);
}

// A Sink may publish on another channel from deliver() (reads nest fine).
struct Forwarder final : Sink {
  ChannelRegistry* reg;
  int deliveries = 0;
  void deliver(const FrameRef& frame) noexcept override {
    ++deliveries;
    reg->publish("downstream", frame, nullptr, false);
  }
};

TEST(ChannelRegistry, NestedPublishFromDeliverIsAllowed) {
  ChannelRegistry reg;
  Forwarder fw;
  fw.reg = &reg;
  Subscriber fsub(fw);
  Client end;
  (void)reg.subscribe(fsub, "upstream");
  (void)reg.subscribe(end.sub, "downstream");
  EXPECT_EQ(reg.publish("upstream", frame_of("m"), nullptr, false), 1u);
  EXPECT_EQ(fw.deliveries, 1);
  EXPECT_EQ(end.sink.deliveries, 1);
  EXPECT_FALSE(reg.is_iterating());
}

// ---- mutation while iterating is a bug ------------------------------------------------

struct Mutator final : Sink {
  enum Kind { kUnsubscribe, kSubscribe, kUnsubscribeAll, kDestroy } kind;
  ChannelRegistry* reg;
  Subscriber* victim;
  void deliver(const FrameRef&) noexcept override {
    switch (kind) {
      case kUnsubscribe:
        reg->unsubscribe(*victim, "room");
        break;
      case kSubscribe:
        (void)reg->subscribe(*victim, "elsewhere");
        break;
      case kUnsubscribeAll:
        reg->unsubscribe_all(*victim);
        break;
      case kDestroy:
        victim->~Subscriber();
        break;
    }
  }
};

void publish_with_mutator(Mutator::Kind kind) {
  ChannelRegistry reg;
  Client other;
  Mutator m;
  m.kind = kind;
  m.reg = &reg;
  m.victim = &other.sub;
  Subscriber msub(m);
  (void)reg.subscribe(msub, "room");
  (void)reg.subscribe(other.sub, "room");
  reg.publish("room", frame_of("m"), nullptr, false);
}

TEST(ChannelRegistryDeathTest, MutationDuringPublishAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(publish_with_mutator(Mutator::kUnsubscribe), "assertion failed");
  EXPECT_DEATH(publish_with_mutator(Mutator::kSubscribe), "assertion failed");
  EXPECT_DEATH(publish_with_mutator(Mutator::kUnsubscribeAll), "assertion failed");
  EXPECT_DEATH(publish_with_mutator(Mutator::kDestroy), "assertion failed");
}

TEST(ChannelRegistryDeathTest, MutationDuringForEachChannelAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ChannelRegistry reg;
        Client a;
        (void)reg.subscribe(a.sub, "x");
        reg.for_each_channel([&](Channel&) { reg.unsubscribe(a.sub, "x"); });
      },
      "assertion failed");
}

TEST(ChannelRegistryDeathTest, InvalidNameAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ChannelRegistry reg;
        Client a;
        (void)reg.subscribe(a.sub, "bad name");
      },
      "assertion failed");
}

}  // namespace
}  // namespace relay::pubsub
