// SPDX-License-Identifier: MIT
// publish() allocates nothing per delivery: with the subscribers' queues warmed up to
// their steady size, a burst of publishes makes zero calls to operator new. This binary
// replaces the global operator new/delete to count calls (it forwards to malloc/free).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "../alloc_counter.h"
#include "base/out_queue.h"
#include "pubsub/channel_registry.h"

using relay::test::g_news;

namespace relay::pubsub {
namespace {

struct QueueSink final : Sink {
  OutQueue queue;
  void deliver(const FrameRef& frame) noexcept override { queue.push(frame); }
};
struct Client {
  QueueSink sink;
  Subscriber sub{sink};
};

TEST(PublishAlloc, NoAllocationPerDelivery) {
  ChannelRegistry reg;
  constexpr int kSubscribers = 500, kBurst = 32;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kSubscribers; ++i) {
    clients.push_back(std::make_unique<Client>());
    (void)reg.subscribe(clients.back()->sub, "hot");
  }
  FrameRef f = FrameRef::allocate(64);
  // Warm-up: the rings grow to hold a burst once.
  for (int i = 0; i < kBurst; ++i) reg.publish("hot", f, nullptr, false);
  for (auto& c : clients) c->sink.queue.clear();

  size_t before = g_news;
  size_t delivered = 0;
  for (int i = 0; i < kBurst; ++i) delivered += reg.publish("hot", f, &clients[0]->sub, false);
  size_t news = g_news - before;

  EXPECT_EQ(delivered, size_t(kBurst) * (kSubscribers - 1));
  EXPECT_EQ(news, 0u);
  // The counter works: a subscribe that creates a channel does allocate.
  before = g_news;
  (void)reg.subscribe(clients[0]->sub, "fresh-channel-with-a-long-name-beyond-sso");
  EXPECT_GT(g_news - before, 0u);
}

}  // namespace
}  // namespace relay::pubsub
