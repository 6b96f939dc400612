// SPDX-License-Identifier: MIT
// WorkerBroker: the Broker of one worker when the process runs several (`workers: N`,
// README "Scaling"). A channel's owner worker (WorkerHub::owner_of) keeps which workers have
// subscribers of it (a 64-bit mask, changed by subscribe/unsubscribe envelopes) and turns
// each publish into one SharedMessage handed to each of them; each fans it out to its own
// subscribers (LocalFanout, encoded once per worker, never per subscriber).
//
// Order: a publisher's messages to a channel all pass the same two FIFO queues (its worker
// -> the owner -> each worker), so every subscriber gets them in the order they were sent,
// and every worker sees one channel's messages in the owner's order.
// Back-pressure: a publish that finds its owner's inbox full is refused at once (error ack,
// HTTP 503, raw close 1013); an owner whose hand-offs back up (a worker's inbox full) keeps
// them in order in a local overflow, retried every millisecond, and refuses new publishes
// while it holds more than kMaxOverflow. Nothing is dropped silently.
// The publish's ack leaves when the owner has handed it on; `delivered` counts the owner
// worker's own deliveries plus one per other worker it was handed to.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker.h"
#include "local_fanout.h"
#include "net/reactor.h"
#include "stats.h"
#include "worker_hub.h"

namespace relay::daemon {

class WorkerBroker final : public Broker {
 public:
  // Envelopes handed on per overflow before the owner refuses publishes.
  static constexpr size_t kMaxOverflow = 65536;
  // Envelopes handled per wake-up; the rest wait for the next loop turn (other clients
  // get their turn in between).
  static constexpr int kBatch = 1024;

  // `control` runs kDrain and kReload envelopes (the Server's drain and reload).
  WorkerBroker(WorkerHub& hub, uint32_t self, net::Reactor& reactor, LocalFanout& local,
               std::function<void(Envelope::Kind)> control);
  ~WorkerBroker() override;

  void publish(const Message& m, PublishDone done) override;
  void subscribe(std::string_view channel) override;
  void unsubscribe(std::string_view channel) override;
  void patterns(bool wanted) override { hub_.set_patterns(self_, wanted); }

  // The first worker, on SIGTERM/SIGHUP: the same to every other worker.
  void broadcast(Envelope::Kind kind);
  uint64_t handoffs() const noexcept { return handoffs_; }  // envelopes posted to others

 private:
  static void on_wake(int fd, uint32_t events, void* data) noexcept;
  static void on_retry(void* data) noexcept;
  void drain_inbox() noexcept;
  void handle(Envelope& e) noexcept;
  // The owner's part of a publish: local fan-out, one hand-off per worker with subscribers.
  PublishResult publish_owned(const Message& m,
                              const std::shared_ptr<const SharedMessage>& shared) noexcept;
  // Posts e to `to` behind what waits in its overflow, or keeps it there (never fails).
  void send(uint32_t to, Envelope& e) noexcept;
  bool flush_overflow() noexcept;  // true when every overflow is empty
  void set_interest(std::string_view channel, uint32_t worker, bool on);
  void tell_owner(std::string_view channel, bool on);
  static std::shared_ptr<const SharedMessage> share(const Message& m, uint32_t origin);

  WorkerHub& hub_;
  const uint32_t self_;
  net::Reactor& reactor_;
  LocalFanout& local_;
  std::function<void(Envelope::Kind)> control_;
  net::Timer retry_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  // Owned channels -> workers with subscribers (bit w = worker w).
  std::unordered_map<std::string, uint64_t, NameHash, std::equal_to<>> interest_;
  std::vector<std::deque<Envelope>> overflow_;  // per destination worker
  size_t overflowing_ = 0;                      // envelopes in all of overflow_
  uint64_t handoffs_ = 0;
};

}  // namespace relay::daemon
