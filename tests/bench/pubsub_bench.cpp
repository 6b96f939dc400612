// SPDX-License-Identifier: MIT
// Fan-out micro-benchmarks for layers 3-4 (Google Benchmark); figures, not tests.
//   BM_PublishToQueues/N        publish one FrameRef to N subscribers' OutQueues (the
//                               daemon's Sink: push a reference, join the pending list once)
//   BM_FlushSocketpair/F        writev_queue of F queued 66-byte frames (a 64-byte payload
//                               + 2-byte header) into a socketpair, peer drained untimed
//   BM_PublishAndFlush/S/W      one loop turn: W publishes to S subscribers, then each
//                               subscriber's queue flushed with one writev to its own socket
//   BM_PublishWithPatterns/K    one publish on a 10-segment name with 100 exact subscribers
//                               and K: 0 = no patterns, 1 = 1,000 patterns none of which
//                               matches, 2 = 1,000 distinct patterns that all match (one
//                               subscriber each); the Sink only counts
// items_per_second counts deliveries (frames handed to a subscriber or written).
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/out_queue.h"
#include "net/socket.h"
#include "pubsub/channel_registry.h"

namespace {

using relay::FrameRef;
using relay::OutQueue;
using relay::pubsub::ChannelRegistry;
using relay::pubsub::Sink;
using relay::pubsub::Subscriber;

constexpr size_t kFrameBytes = 66;  // 64-byte payload, 2-byte server frame header

struct BenchClient;
using PendingList = std::vector<BenchClient*>;

// What the daemon's client does in deliver(): queue a reference, mark pending once.
struct BenchClient final : Sink {
  OutQueue queue;
  PendingList* pending = nullptr;
  bool is_pending = false;
  int fd = -1;    // writer end (BM_PublishAndFlush)
  int peer = -1;  // reader end
  Subscriber sub{*this};
  void deliver(const FrameRef& frame) noexcept override {
    queue.push(frame);
    if (!is_pending) {
      is_pending = true;
      pending->push_back(this);
    }
  }
  ~BenchClient() {
    if (fd >= 0) close(fd);
    if (peer >= 0) close(peer);
  }
};

FrameRef make_frame() {
  FrameRef f = FrameRef::allocate(kFrameBytes);
  auto b = f.mutable_bytes();
  std::memset(b.data(), 'x', b.size());
  b[0] = std::byte{0x81};  // FIN + text
  b[1] = std::byte{64};
  return f;
}

void BM_PublishToQueues(benchmark::State& state) {
  const int n = int(state.range(0));
  ChannelRegistry reg;
  PendingList pending;
  pending.reserve(size_t(n));
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<BenchClient>());
    clients.back()->pending = &pending;
    (void)reg.subscribe(clients.back()->sub, "bench");
  }
  FrameRef f = make_frame();
  constexpr int kTurn = 64;  // publishes between two (untimed) flushes
  int in_turn = 0;
  size_t delivered = 0;
  for (auto _ : state) {
    delivered += reg.publish("bench", f, nullptr, false);
    if (++in_turn == kTurn) {
      state.PauseTiming();
      for (BenchClient* c : pending) {
        c->queue.clear();
        c->is_pending = false;
      }
      pending.clear();
      in_turn = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(int64_t(delivered));
}
BENCHMARK(BM_PublishToQueues)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000);

// Reads everything the peer has, untimed by the caller.
void drain(int fd) {
  static char buf[1 << 16];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

void make_pair(int* writer, int* reader) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  int big = 1 << 20;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  *writer = fds[0];
  *reader = fds[1];
}

// Flushes q into w; when the socket is full, drains r untimed and goes on.
bool flush_all(benchmark::State& state, int w, int r, OutQueue& q) {
  for (int tries = 0; tries < 1000; ++tries) {
    auto res = relay::net::writev_queue(w, q);
    if (res.status == relay::net::FlushStatus::kDrained) return true;
    if (res.status == relay::net::FlushStatus::kFailed) break;
    state.PauseTiming();
    drain(r);
    state.ResumeTiming();
  }
  state.SkipWithError("flush failed");
  return false;
}

void BM_FlushSocketpair(benchmark::State& state) {
  const int frames = int(state.range(0));
  int w, r;
  make_pair(&w, &r);
  FrameRef f = make_frame();
  OutQueue q;
  size_t written = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < frames; ++i) q.push(f);
    state.ResumeTiming();
    if (!flush_all(state, w, r, q)) break;
    written += size_t(frames);
  }
  state.SetItemsProcessed(int64_t(written));
  state.SetBytesProcessed(int64_t(written * kFrameBytes));
  close(w);
  close(r);
}
BENCHMARK(BM_FlushSocketpair)->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Arg(256);

void BM_PublishAndFlush(benchmark::State& state) {
  const int subs = int(state.range(0));
  const int per_turn = int(state.range(1));
  ChannelRegistry reg;
  PendingList pending;
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (int i = 0; i < subs; ++i) {
    clients.push_back(std::make_unique<BenchClient>());
    make_pair(&clients.back()->fd, &clients.back()->peer);
    clients.back()->pending = &pending;
    (void)reg.subscribe(clients.back()->sub, "bench");
  }
  FrameRef f = make_frame();
  size_t delivered = 0;
  int turns = 0;
  for (auto _ : state) {
    for (int i = 0; i < per_turn; ++i) reg.publish("bench", f, nullptr, false);
    for (BenchClient* c : pending) {  // the before-sleep flush: one writev per subscriber
      if (!flush_all(state, c->fd, c->peer, c->queue)) return;
      c->is_pending = false;
      delivered += size_t(per_turn);
    }
    pending.clear();
    if (++turns % 64 == 0) {  // keep the peers' buffers from filling (untimed)
      state.PauseTiming();
      for (auto& c : clients) drain(c->peer);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(int64_t(delivered));
}
BENCHMARK(BM_PublishAndFlush)->Args({100, 1})->Args({100, 32})->Args({1000, 1})->Args({1000, 32});

struct CountingSink final : Sink {
  size_t n = 0;
  void deliver(const FrameRef&) noexcept override { ++n; }
};

// The cost a publish pays for patterns: none, 1,000 that miss (one trie lookup at the
// first segment), 1,000 that all match (the walk reaches each of them once).
void BM_PublishWithPatterns(benchmark::State& state) {
  constexpr std::string_view kName = "a.b.c.d.e.f.g.h.i.j";  // 10 segments
  const char* kSegs[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  ChannelRegistry reg;
  CountingSink sink;
  std::vector<std::unique_ptr<Subscriber>> subs;
  for (int i = 0; i < 100; ++i) {
    subs.push_back(std::make_unique<Subscriber>(sink));
    (void)reg.subscribe(*subs.back(), kName);
  }
  for (int i = 0; i < 1000 && state.range(0) != 0; ++i) {
    std::string pattern;
    if (state.range(0) == 1) {
      pattern = "x" + std::to_string(i) + ".*";  // misses at the first segment
    } else {
      for (int k = 0; k < 10; ++k) {  // bit k of i + 1: segment k is `*`
        if (k) pattern += '.';
        pattern += ((i + 1) >> k) & 1 ? "*" : kSegs[k];
      }
    }
    subs.push_back(std::make_unique<Subscriber>(sink));
    (void)reg.subscribe_pattern(*subs.back(), pattern);
  }
  FrameRef f = make_frame();
  size_t delivered = 0;
  for (auto _ : state) delivered += reg.publish(kName, f, nullptr, false);
  state.SetItemsProcessed(int64_t(delivered));
  state.counters["deliveries_per_publish"] = double(delivered) / double(state.iterations());
  for (auto& s : subs) reg.unsubscribe_all(*s);
}
BENCHMARK(BM_PublishWithPatterns)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
