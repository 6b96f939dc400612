// SPDX-License-Identifier: MIT
// The Broker seam: MemoryBroker fans out through LocalFanout and answers in the same
// call; LocalFanout tells the broker when a channel gets its first local subscriber and
// loses its last (what a Redis broker turns into SUBSCRIBE / UNSUBSCRIBE).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/out_queue.h"
#include "local_fanout.h"
#include "memory_broker.h"

namespace relay::daemon {
namespace {

struct QueueSink final : pubsub::Sink {
  OutQueue queue;
  void deliver(const FrameRef& frame) noexcept override { queue.push(frame); }
};
struct Sub {
  QueueSink sink;
  pubsub::Subscriber sub{sink};
};

// A MemoryBroker that records the node-level subscriptions it is asked for.
class RecordingBroker final : public Broker {
 public:
  explicit RecordingBroker(FanoutTarget& local) : inner_(local) {}
  void publish(const Message& m, PublishDone done) override { inner_.publish(m, std::move(done)); }
  void subscribe(std::string_view ch) override { log.push_back("+" + std::string(ch)); }
  void unsubscribe(std::string_view ch) override { log.push_back("-" + std::string(ch)); }
  void patterns(bool wanted) override { log.push_back(wanted ? "+*" : "-*"); }
  std::vector<std::string> log;

 private:
  MemoryBroker inner_;
};

Message text_message(std::string_view channel, std::string_view text) {
  Message m;
  m.channel = channel;
  m.payload = as_bytes(text);
  m.kind = wire::PayloadKind::kText;
  return m;
}

TEST(MemoryBroker, PublishFansOutAndCompletesInTheSameCall) {
  Stats stats;
  LocalFanout fanout(stats);
  MemoryBroker broker(fanout);
  fanout.attach(broker);
  Sub raw, json, other;
  (void)fanout.subscribe(WsMode::kRaw, raw.sub, "news");
  (void)fanout.subscribe(WsMode::kJson, json.sub, "news");
  (void)fanout.subscribe(WsMode::kJson, other.sub, "sport");

  int calls = 0;
  PublishResult got;
  broker.publish(text_message("news", "hello"), [&](const PublishResult& r) {
    ++calls;
    got = r;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.accepted);
  EXPECT_EQ(got.delivered, 2u);
  EXPECT_EQ(got.offset, 0u);  // no history in memory
  EXPECT_EQ(raw.sink.queue.frames(), 1u);
  EXPECT_EQ(json.sink.queue.frames(), 1u);
  EXPECT_EQ(other.sink.queue.frames(), 0u);
  // The raw subscriber gets a bare text frame; the JSON one the delivery envelope.
  EXPECT_EQ(raw.sink.queue.bytes(), 2 + 5u);
  EXPECT_GT(json.sink.queue.bytes(), raw.sink.queue.bytes());
  EXPECT_EQ(stats.messages_delivered, 2u);
  EXPECT_EQ(stats.bytes_delivered, 10u);

  broker.publish(text_message("nobody", "x"), nullptr);  // no completion is fine
  EXPECT_EQ(stats.messages_delivered, 2u);
}

TEST(MemoryBroker, SenderIsSkippedUnlessEcho) {
  Stats stats;
  LocalFanout fanout(stats);
  MemoryBroker broker(fanout);
  Sub a, b;
  (void)fanout.subscribe(WsMode::kJson, a.sub, "room");
  (void)fanout.subscribe(WsMode::kJson, b.sub, "room");
  Message m = text_message("room", "hi");
  m.sender = &a.sub;
  size_t delivered = 0;
  broker.publish(m, [&](const PublishResult& r) { delivered = r.delivered; });
  EXPECT_EQ(delivered, 1u);
  EXPECT_EQ(a.sink.queue.frames(), 0u);
  m.echo = true;
  broker.publish(m, [&](const PublishResult& r) { delivered = r.delivered; });
  EXPECT_EQ(delivered, 2u);
  EXPECT_EQ(a.sink.queue.frames(), 1u);
}

TEST(LocalFanout, NodeSubscribesOnFirstAndUnsubscribesOnLastLocalSubscriber) {
  Stats stats;
  LocalFanout fanout(stats);
  RecordingBroker broker(fanout);
  fanout.attach(broker);
  Sub a, b, c;
  (void)fanout.subscribe(WsMode::kJson, a.sub, "x");
  (void)fanout.subscribe(WsMode::kJson, b.sub, "x");  // not the first: nothing
  (void)fanout.subscribe(WsMode::kRaw, c.sub, "x");   // raw and JSON share the node's interest
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+x"}));
  EXPECT_TRUE(fanout.unsubscribe(WsMode::kJson, a.sub, "x"));
  EXPECT_FALSE(fanout.unsubscribe(WsMode::kJson, a.sub, "x"));
  fanout.unsubscribe_all(WsMode::kJson, b.sub);
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+x"}));  // c still listens
  EXPECT_EQ(fanout.subscriber_count("x"), 1u);
  (void)fanout.subscribe(WsMode::kJson, a.sub, "y");
  fanout.unsubscribe_all(WsMode::kRaw, c.sub);
  fanout.unsubscribe_all(WsMode::kJson, a.sub);
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+x", "+y", "-x", "-y"}));
  EXPECT_EQ(fanout.channel_count(), 0u);
}

// A backplane needs every channel's messages while the node has pattern subscribers.
TEST(LocalFanout, BrokerIsToldWhenTheFirstPatternComesAndTheLastGoes) {
  Stats stats;
  LocalFanout fanout(stats);
  RecordingBroker broker(fanout);
  fanout.attach(broker);
  Sub a, b;
  EXPECT_TRUE(fanout.subscribe_pattern(a.sub, "chat.*"));
  EXPECT_TRUE(fanout.subscribe_pattern(b.sub, "chat.*"));
  EXPECT_TRUE(fanout.subscribe_pattern(b.sub, "room.>"));
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+*"}));
  EXPECT_TRUE(fanout.unsubscribe_pattern(a.sub, "chat.*"));
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+*"}));  // b still has two
  fanout.unsubscribe_all(WsMode::kJson, b.sub);
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+*", "-*"}));
  EXPECT_TRUE(fanout.subscribe_pattern(a.sub, "x.*"));
  EXPECT_TRUE(fanout.unsubscribe_pattern(a.sub, "x.*"));
  EXPECT_EQ(broker.log, (std::vector<std::string>{"+*", "-*", "+*", "-*"}));
}

TEST(LocalFanout, ChannelCountCountsSharedNamesOnce) {
  Stats stats;
  LocalFanout fanout(stats);
  Sub a, b;
  (void)fanout.subscribe(WsMode::kRaw, a.sub, "both");
  (void)fanout.subscribe(WsMode::kJson, b.sub, "both");
  (void)fanout.subscribe(WsMode::kJson, b.sub, "json-only");
  EXPECT_EQ(fanout.channel_count(), 2u);
  EXPECT_TRUE(fanout.is_subscribed(WsMode::kJson, b.sub, "both"));
  EXPECT_FALSE(fanout.is_subscribed(WsMode::kRaw, b.sub, "both"));
}

// A backplane that lost history: each exact subscriber of that channel (raw and /ws) is
// handed to the hook once, others are not; pattern subscribers carry no history.
TEST(LocalFanout, HistoryLostReachesTheChannelsExactSubscribers) {
  Stats stats;
  LocalFanout fanout(stats);
  Sub raw, json, other, pattern;
  (void)fanout.subscribe(WsMode::kRaw, raw.sub, "h.a");
  (void)fanout.subscribe(WsMode::kJson, json.sub, "h.a");
  (void)fanout.subscribe(WsMode::kJson, other.sub, "h.b");
  ASSERT_TRUE(fanout.subscribe_pattern(pattern.sub, "h.*"));
  fanout.history_lost("h.a", "ignored without a hook");
  std::vector<const pubsub::Sink*> told;
  std::string why;
  fanout.on_history_lost([&](pubsub::Sink& s, const char* reason) {
    told.push_back(&s);
    why = reason;
  });
  fanout.history_lost("h.a", "epoch_changed");
  ASSERT_EQ(told.size(), 2u);
  EXPECT_TRUE((told[0] == &raw.sink && told[1] == &json.sink) ||
              (told[0] == &json.sink && told[1] == &raw.sink));
  EXPECT_EQ(why, "epoch_changed");
  told.clear();
  fanout.history_lost("nobody", "offset_too_old");
  EXPECT_TRUE(told.empty());
}

}  // namespace
}  // namespace relay::daemon
