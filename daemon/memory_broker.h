// SPDX-License-Identifier: MIT
// MemoryBroker: the single-process Broker. A publish is fanned out locally at once and
// its result handed to the completion in the same call; node-level subscriptions only
// tell the history store which streams have local subscribers. On a channel with history
// the message is stored first and fanned out with its offset (README "History and
// recovery"); a channel without history costs one integer test.
#pragma once

#include "broker.h"
#include "history_store.h"

namespace relay::daemon {

class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(FanoutTarget& local, uint64_t max_history_bytes = 0)
      : local_(local), history_(max_history_bytes) {}

  void publish(const Message& m, PublishDone done) override {
    PublishResult r;
    if (m.history_size == 0) {
      r.delivered = local_.fan_out(m);
    } else {
      Message stored = m;
      const StreamPosition pos = history_.append(m.channel, m.history_size, m.history_ttl_s, m.kind,
                                                 m.payload, m.stamp_ns / 1'000'000);
      stored.offset = r.offset = pos.offset;
      stored.epoch = pos.epoch;
      r.delivered = local_.fan_out(stored);
    }
    if (done) done(r);
  }
  void subscribe(std::string_view channel) override {
    history_.set_interest(channel, true, history_now_ms());
  }
  void unsubscribe(std::string_view channel) override {
    history_.set_interest(channel, false, history_now_ms());
  }
  HistoryStore* history() noexcept override { return &history_; }

 private:
  FanoutTarget& local_;
  HistoryStore history_;
};

}  // namespace relay::daemon
