// SPDX-License-Identifier: MIT
// daemon/worker_broker: two workers' brokers driven turn by turn on one thread (each with
// its own reactor): a subscriber on one worker gets, in order and once, what a publisher on
// it publishes to a channel the other worker owns; the ack comes back through the owner;
// an owner's full inbox refuses publishes at once (never a silent drop), and every
// publish it took is answered.
#include "worker_broker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "pubsub/subscriber.h"

namespace relay::daemon {
namespace {

struct Recorder final : pubsub::Sink {
  std::vector<std::string> frames;
  void deliver(const FrameRef& f) noexcept override {
    frames.emplace_back(reinterpret_cast<const char*>(f.data()), f.size());
  }
};

struct Worker {
  Worker(WorkerHub& hub, uint32_t index)
      : reactor(std::move(net::Reactor::create().value())),
        fanout(stats),
        broker(hub, index, *reactor, fanout, {}) {
    fanout.attach(broker);
  }
  void turn() { reactor->run_once(0); }
  std::unique_ptr<net::Reactor> reactor;
  Stats stats;
  LocalFanout fanout;
  WorkerBroker broker;
};

// A channel name worker `owner` owns.
std::string owned_by(const WorkerHub& hub, uint32_t owner) {
  for (int i = 0;; ++i) {
    std::string name = "c" + std::to_string(i);
    if (hub.owner_of(name) == owner) return name;
  }
}

Message text(std::string_view channel, const std::string& payload) {
  return make_message(channel, wire::PayloadKind::kText, as_bytes(payload), nullptr, false);
}

TEST(WorkerBroker, PublishThroughTheOwnerArrivesInOrderAndIsAcked) {
  WorkerHub hub(2);
  Worker w0(hub, 0), w1(hub, 1);
  const std::string ch = owned_by(hub, 1);
  Recorder rec;
  pubsub::Subscriber sub(rec);
  (void)w0.fanout.subscribe(WsMode::kRaw, sub, ch);  // the owner hears of it (envelope)
  std::vector<PublishResult> acks;
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back("m" + std::to_string(i));
    w0.broker.publish(text(ch, sent.back()),
                      [&acks](const PublishResult& r) { acks.push_back(r); });
  }
  EXPECT_TRUE(rec.frames.empty());  // nothing delivered before the owner's turn
  for (int t = 0; t < 4; ++t) {
    w1.turn();
    w0.turn();
  }
  ASSERT_EQ(rec.frames.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i)
    EXPECT_EQ(rec.frames[i].substr(2), sent[i]) << i;  // a 2-byte header, then the payload
  ASSERT_EQ(acks.size(), sent.size());
  for (const PublishResult& r : acks) {
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.delivered, 1u);  // handed to one worker
  }
  EXPECT_EQ(w0.stats.messages_delivered, 100u);

  // Unsubscribed: the owner stops handing messages over.
  EXPECT_TRUE(w0.fanout.unsubscribe(WsMode::kRaw, sub, ch));
  w0.broker.publish(text(ch, "late"), [&acks](const PublishResult& r) { acks.push_back(r); });
  for (int t = 0; t < 4; ++t) {
    w1.turn();
    w0.turn();
  }
  EXPECT_EQ(rec.frames.size(), sent.size());
  ASSERT_EQ(acks.size(), sent.size() + 1);
  EXPECT_EQ(acks.back().delivered, 0u);
}

TEST(WorkerBroker, FullOwnerInboxRefusesAtOnceAndAnswersTheRest) {
  WorkerHub hub(2);
  Worker w0(hub, 0), w1(hub, 1);
  const std::string ch = owned_by(hub, 1);
  const size_t extra = 10;
  const size_t total = WorkerHub::kInboxCapacity + extra;
  size_t accepted = 0, refused = 0;
  for (size_t i = 0; i < total; ++i)
    w0.broker.publish(text(ch, "x"),
                      [&](const PublishResult& r) { ++(r.accepted ? accepted : refused); });
  EXPECT_EQ(refused, extra);  // told at once, in publish()
  EXPECT_EQ(accepted, 0u);
  for (int t = 0; t < 200 && accepted < WorkerHub::kInboxCapacity; ++t) {
    w1.turn();
    w0.turn();
  }
  EXPECT_EQ(accepted, WorkerHub::kInboxCapacity);  // every publish taken was answered
  EXPECT_EQ(refused, extra);
}

}  // namespace
}  // namespace relay::daemon
