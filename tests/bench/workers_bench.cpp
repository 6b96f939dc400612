// SPDX-License-Identifier: MIT
// The cost of handing a message from one worker to another (README "Scaling"), with the
// pieces the daemon uses: an MpscQueue of shared messages and an EventFd wake-up.
//   BM_HandoffSameThread         push + pop of one shared message, no other thread: the
//                                queue's own cost
//   BM_HandoffBurst/B            a producer thread posts B messages (signal() after each,
//                                coalesced); the consumer thread, asleep in poll() when
//                                idle, pops them; per message, wake-ups included
//   BM_HandoffPingPong           one message there and an answer back, each side asleep in
//                                poll() in between: two wake-ups of an idle thread
//   BM_HandoffFanOut/S           BM_HandoffBurst/64 where the consumer then encodes the
//                                frame once and fans it out to S subscribers (ChannelRegistry,
//                                a Sink that queues the reference): items = deliveries
// Shared 2-core machines: run it alone and read the figures as orders of magnitude.
#include <benchmark/benchmark.h>
#include <poll.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/out_queue.h"
#include "net/event_fd.h"
#include "net/mpsc_queue.h"
#include "pubsub/channel_registry.h"
#include "ws/frame.h"

namespace {

using relay::FrameRef;
using relay::net::EventFd;
using relay::net::MpscQueue;

struct Msg {
  std::string channel = "bench";
  std::string payload = std::string(64, 'x');
};
using Item = std::shared_ptr<const Msg>;

void wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  (void)::poll(&p, 1, 1000);
}

void BM_HandoffSameThread(benchmark::State& state) {
  MpscQueue<Item> q(1024);
  auto msg = std::make_shared<const Msg>();
  for (auto _ : state) {
    Item i = msg;
    (void)q.try_push(std::move(i));
    benchmark::DoNotOptimize(q.try_pop());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandoffSameThread);

struct Sink final : relay::pubsub::Sink {
  relay::OutQueue queue;
  relay::pubsub::Subscriber sub{*this};
  void deliver(const FrameRef& frame) noexcept override {
    queue.push(frame);
    if (queue.frames() > 256) queue.clear();
  }
};

// A consumer thread: sleeps in poll() until woken, pops everything, fans each message out
// to `subs` subscribers (0 = none), counts it.
class Consumer {
 public:
  explicit Consumer(int subs) : wake_(EventFd::create()), q_(16384) {
    for (int i = 0; i < subs; ++i) {
      sinks_.push_back(std::make_unique<Sink>());
      (void)reg_.subscribe(sinks_.back()->sub, "bench");
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~Consumer() {
    stop_.store(true);
    wake_->signal();
    thread_.join();
  }
  void post(Item i) {
    while (!q_.try_push(std::move(i))) std::this_thread::yield();
    wake_->signal();
  }
  uint64_t done() const { return done_.load(std::memory_order_acquire); }
  // Woken after each message (ping-pong).
  EventFd& answer() { return *answer_; }

 private:
  void loop() {
    while (!stop_.load()) {
      wait_readable(wake_->fd());
      wake_->clear();
      while (auto i = q_.try_pop()) {
        if (!sinks_.empty()) {
          FrameRef f = relay::ws::prepare_server_frame(relay::ws::Opcode::kText,
                                                       relay::as_bytes((*i)->payload));
          (void)reg_.publish((*i)->channel, f, nullptr, false);
        }
        done_.fetch_add(1, std::memory_order_release);
        answer_->signal();
      }
    }
  }
  std::unique_ptr<EventFd> wake_;
  std::unique_ptr<EventFd> answer_ = EventFd::create();
  MpscQueue<Item> q_;
  relay::pubsub::ChannelRegistry reg_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> done_{0};
  std::thread thread_;
};

void BM_HandoffBurst(benchmark::State& state) {
  const int b = int(state.range(0));
  Consumer c(0);
  auto msg = std::make_shared<const Msg>();
  uint64_t sent = 0;
  for (auto _ : state) {
    for (int k = 0; k < b; ++k) c.post(msg);
    sent += uint64_t(b);
    while (c.done() < sent) std::this_thread::yield();
  }
  state.SetItemsProcessed(int64_t(sent));
}
BENCHMARK(BM_HandoffBurst)->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();

void BM_HandoffFanOut(benchmark::State& state) {
  const int subs = int(state.range(0));
  state.SetLabel(std::to_string(subs) + " subscribers");
  Consumer c(subs);
  auto msg = std::make_shared<const Msg>();
  uint64_t sent = 0;
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k) c.post(msg);
    sent += 64;
    while (c.done() < sent) std::this_thread::yield();
  }
  state.SetItemsProcessed(int64_t(sent) * subs);
}
BENCHMARK(BM_HandoffFanOut)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

void BM_HandoffPingPong(benchmark::State& state) {
  Consumer c(0);
  auto msg = std::make_shared<const Msg>();
  uint64_t sent = 0;
  for (auto _ : state) {
    c.post(msg);
    ++sent;
    while (c.done() < sent) {
      wait_readable(c.answer().fd());
      c.answer().clear();
    }
  }
  state.SetItemsProcessed(int64_t(sent));
}
BENCHMARK(BM_HandoffPingPong)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
