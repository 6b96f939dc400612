// SPDX-License-Identifier: MIT
// HistoryStore: consecutive offsets per channel, the ring bound (history_size), history_ttl,
// the global byte bound evicting from the largest stream first, epochs that change only
// when a stream is forgotten; and MemoryBroker handing offsets to local fan-out.
#include "history_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "local_fanout.h"
#include "memory_broker.h"

namespace relay::daemon {
namespace {

constexpr int64_t kNow = 1'000'000;

StreamPosition put(HistoryStore& h, std::string_view channel, std::string_view text,
                   uint32_t size = 100, uint32_t ttl_s = 0, int64_t now = kNow) {
  return h.append(channel, size, ttl_s, wire::PayloadKind::kText, as_bytes(text), now);
}

std::vector<uint64_t> offsets(const std::vector<const StoredMessage*>& v) {
  std::vector<uint64_t> out;
  for (const StoredMessage* m : v) out.push_back(m->offset);
  return out;
}

TEST(HistoryStore, OffsetsAreConsecutivePerChannelAndTheEpochStays) {
  HistoryStore h(0);
  const StreamPosition a1 = put(h, "a", "x");
  const StreamPosition a2 = put(h, "a", "y");
  const StreamPosition b1 = put(h, "b", "z");
  EXPECT_EQ(a1.offset, 1u);
  EXPECT_EQ(a2.offset, 2u);
  EXPECT_EQ(b1.offset, 1u);
  EXPECT_EQ(a1.epoch, a2.epoch);
  EXPECT_NE(a1.epoch, 0u);
  EXPECT_EQ(h.position("a", false).offset, 2u);
  EXPECT_EQ(h.position("a", false).epoch, a1.epoch);
  EXPECT_EQ(epoch_text(0xab12).size(), 8u);
  EXPECT_EQ(h.messages(), 3u);
  EXPECT_EQ(h.bytes(), 3u);
}

TEST(HistoryStore, SinceAnswersTheMessagesAfterAPositionOrWhyNot) {
  HistoryStore h(0);
  StreamPosition top;
  for (int i = 0; i < 10; ++i) top = put(h, "c", std::to_string(i), 5);
  std::vector<const StoredMessage*> out;
  EXPECT_EQ(h.since("c", {top.epoch, 7}, 100, kNow, &out), HistoryStatus::kOk);
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_EQ(out[0]->payload, "7");
  out.clear();
  EXPECT_EQ(h.since("c", {top.epoch, 5}, 2, kNow, &out), HistoryStatus::kOk);  // the oldest 2
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{6, 7}));
  out.clear();
  EXPECT_EQ(h.since("c", {top.epoch, 10}, 100, kNow, &out), HistoryStatus::kOk);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(h.since("c", {top.epoch, 4}, 100, kNow, &out), HistoryStatus::kOffsetTooOld);
  EXPECT_EQ(h.since("c", {top.epoch + 1, 8}, 100, kNow, &out), HistoryStatus::kEpochChanged);
  EXPECT_EQ(h.since("c", {top.epoch, 11}, 100, kNow, &out), HistoryStatus::kEpochChanged);
  EXPECT_EQ(h.since("nope", {top.epoch, 0}, 100, kNow, &out), HistoryStatus::kEpochChanged);
  EXPECT_TRUE(out.empty());
  h.last("c", 2, kNow, &out);
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{9, 10}));
  EXPECT_EQ(h.messages(), 5u);
}

TEST(HistoryStore, TtlDropsOldMessagesButKeepsThePosition) {
  HistoryStore h(0);
  put(h, "t", "old", 100, 2, kNow);
  const StreamPosition top = put(h, "t", "new", 100, 2, kNow + 1500);
  std::vector<const StoredMessage*> out;
  h.last("t", 10, kNow + 2500, &out);
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{2}));
  out.clear();
  EXPECT_EQ(h.since("t", {top.epoch, 0}, 10, kNow + 2500, &out), HistoryStatus::kOffsetTooOld);
  h.expire(kNow + 4000);
  EXPECT_EQ(h.messages(), 0u);
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_EQ(h.position("t", false).epoch, top.epoch);  // emptied, not forgotten
  EXPECT_EQ(h.position("t", false).offset, 2u);
}

TEST(HistoryStore, TheByteBoundEvictsTheOldestOfTheLargestStreamFirst) {
  HistoryStore h(1000);
  for (int i = 0; i < 5; ++i) put(h, "small", std::string(20, 's'));      // 100 bytes
  for (int i = 0; i < 6; ++i) put(h, "medium", std::string(50, 'm'));     // 300 bytes
  for (int i = 0; i < 10; ++i) put(h, "big", std::string(100, 'b'), 50);  // 1000 bytes
  EXPECT_LE(h.bytes(), 1000u);
  std::vector<const StoredMessage*> small, medium, big;
  h.last("small", 100, kNow, &small);
  h.last("medium", 100, kNow, &medium);
  h.last("big", 100, kNow, &big);
  EXPECT_EQ(small.size(), 5u);
  EXPECT_EQ(medium.size(), 6u);
  EXPECT_EQ(offsets(big), (std::vector<uint64_t>{5, 6, 7, 8, 9, 10}));  // 600 + 400 = 1000
  // the medium stream grows past big: now it loses its oldest
  for (int i = 0; i < 8; ++i) put(h, "medium", std::string(50, 'm'));
  EXPECT_LE(h.bytes(), 1000u);
  medium.clear();
  big.clear();
  h.last("medium", 100, kNow, &medium);
  h.last("big", 100, kNow, &big);
  EXPECT_EQ(medium.back()->offset, 14u);
  size_t stored = 100 + medium.size() * 50 + big.size() * 100;
  EXPECT_EQ(stored, h.bytes());
  EXPECT_GE(stored, 900u);  // evicted only what the bound required
  h.set_max_bytes(0);
  put(h, "big", std::string(5000, 'b'), 50);
  EXPECT_GT(h.bytes(), 5000u);
}

TEST(HistoryStore, AStreamIsForgottenOnlyWhenEmptyUnsubscribedAndUnused) {
  HistoryStore h(0);
  const StreamPosition first = h.position("q", true);  // a subscriber on a quiet channel
  EXPECT_EQ(first.offset, 0u);
  h.set_interest("q", false, kNow);
  h.expire(kNow + 1000);
  EXPECT_EQ(put(h, "q", "m", 100, 0, kNow + 2000).epoch, first.epoch);  // recoverable
  h.expire(kNow + HistoryStore::kForgetAfterMs * 2);                    // not empty: kept
  EXPECT_EQ(h.streams(), 1u);
  HistoryStore g(0);
  const StreamPosition e = g.position("r", true);
  g.set_interest("r", false, kNow);
  g.expire(kNow + HistoryStore::kForgetAfterMs);
  EXPECT_EQ(g.streams(), 0u);
  EXPECT_NE(g.position("r", true).epoch, e.epoch);
}

TEST(HistoryStore, ManyStreamsKeepTheHeapConsistent) {
  HistoryStore h(5000);
  for (int round = 0; round < 50; ++round)
    for (int c = 0; c < 20; ++c)
      put(h, "c" + std::to_string(c), std::string(size_t(1 + (c * 7 + round) % 30), 'x'));
  EXPECT_LE(h.bytes(), 5000u);
  for (int c = 0; c < 20; c += 3) {
    h.set_interest("c" + std::to_string(c), false, kNow);
  }
  h.expire(kNow + HistoryStore::kForgetAfterMs * 2);
  EXPECT_EQ(h.streams(), 20u);  // none is empty
}

struct QueueSink final : pubsub::Sink {
  std::vector<std::string> frames;
  void deliver(const FrameRef& f) noexcept override {
    frames.emplace_back(reinterpret_cast<const char*>(f.data()), f.size());
  }
};

TEST(MemoryBroker, AChannelWithHistoryDeliversItsOffset) {
  Stats stats;
  LocalFanout fanout(stats);
  MemoryBroker broker(fanout, 1 << 20);
  fanout.attach(broker);
  QueueSink sink;
  pubsub::Subscriber sub(sink);
  (void)fanout.subscribe(WsMode::kJson, sub, "h");
  ChannelOptions opts;
  opts.history_size = 10;
  PublishResult got;
  broker.publish(
      make_message("h", wire::PayloadKind::kText, as_bytes(std::string_view("x")), nullptr, opts),
      [&](const PublishResult& r) { got = r; });
  EXPECT_EQ(got.offset, 1u);
  EXPECT_EQ(got.delivered, 1u);
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_NE(sink.frames[0].find(R"({"channel":"h","offset":1,"text":"x"})"), std::string::npos);
  opts.history_size = 0;
  broker.publish(
      make_message("h", wire::PayloadKind::kText, as_bytes(std::string_view("y")), nullptr, opts),
      [&](const PublishResult& r) { got = r; });
  EXPECT_EQ(got.offset, 0u);
  EXPECT_NE(sink.frames[1].find(R"({"channel":"h","text":"y"})"), std::string::npos);
  EXPECT_EQ(broker.history()->messages(), 1u);
}

// A mirror (the Redis broker's cache): positions come from elsewhere, a stream no local
// subscriber follows is loaded again on every read, a put() that does not follow restarts.
TEST(HistoryStore, MirrorLoadsStaleStreamsAndTakesPositionsAsGiven) {
  HistoryStore h(0);
  int loads = 0;
  h.set_loader([&](std::string_view channel) {
    ++loads;
    std::vector<StoredMessage> msgs(2);
    msgs[0].offset = 9;
    msgs[0].payload = "nine";
    msgs[1].offset = 10;
    msgs[1].payload = "ten";
    for (StoredMessage& m : msgs) m.time_ms = history_now_ms();
    h.restore(channel, {0xabcd, 10}, 0, std::move(msgs));
  });
  StreamPosition pos;
  EXPECT_FALSE(h.cached("m", &pos));
  std::vector<const StoredMessage*> out;
  h.last("m", 5, history_now_ms(), &out);  // a reader that does not subscribe
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{9, 10}));
  EXPECT_FALSE(h.cached("m", &pos));  // nobody follows it: not kept in step
  pos = h.position("m", true);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(pos.epoch, 0xabcdu);
  EXPECT_EQ(pos.offset, 10u);
  ASSERT_TRUE(h.cached("m", &pos));
  h.put("m", {0xabcd, 11}, 100, 0, wire::PayloadKind::kText, as_bytes(std::string_view("11")),
        history_now_ms());
  out.clear();
  EXPECT_EQ(h.since("m", {0xabcd, 9}, 10, history_now_ms(), &out), HistoryStatus::kOk);
  EXPECT_EQ(offsets(out), (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(loads, 2);  // followed: read from the cache
  // A jump (the caller saw to the gap) restarts the cached stream at the given offset.
  h.put("m", {0xabcd, 20}, 100, 0, wire::PayloadKind::kText, as_bytes(std::string_view("20")),
        history_now_ms());
  out.clear();
  EXPECT_EQ(h.since("m", {0xabcd, 11}, 10, history_now_ms(), &out), HistoryStatus::kOffsetTooOld);
  ASSERT_TRUE(h.cached("m", &pos));
  EXPECT_EQ(pos.offset, 20u);
  h.set_interest("m", false, history_now_ms());
  EXPECT_FALSE(h.cached("m", &pos));
}

}  // namespace
}  // namespace relay::daemon
