// SPDX-License-Identifier: MIT
// MemoryBroker: the single-process Broker. A publish is fanned out locally at once and
// its result handed to the completion in the same call; node-level subscriptions are
// no-ops, every channel being local.
#pragma once

#include "broker.h"

namespace relay::daemon {

class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(FanoutTarget& local) noexcept : local_(local) {}

  void publish(const Message& m, PublishDone done) override {
    PublishResult r;
    r.delivered = local_.fan_out(m);
    if (done) done(r);
  }
  void subscribe(std::string_view) override {}
  void unsubscribe(std::string_view) override {}

 private:
  FanoutTarget& local_;
};

}  // namespace relay::daemon
