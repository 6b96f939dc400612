// SPDX-License-Identifier: MIT
// WorkerHub: what the event loops of one process (`workers: N`, README "Scaling") share.
// Each worker has an inbox (a bounded MpscQueue of Envelopes and an eventfd that wakes its
// reactor); everything else a worker owns alone. Channels are shared out by name: the owner
// of a channel (owner_of) keeps which workers have subscribers of it and passes each
// publish on, as one shared message, to those workers (WorkerBroker).
// Also here: the mask of workers with pattern subscribers (one atomic word, read per
// publish by the owners) and each worker's Stats, copied once a second for /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "broker.h"
#include "net/event_fd.h"
#include "net/mpsc_queue.h"
#include "stats.h"

namespace relay::daemon {

// One publish on its way between workers: a copy of the message, made once by the worker
// it was published on and shared by reference (shared_ptr: an atomic count) by every
// worker it reaches. Immutable once posted.
struct SharedMessage {
  std::string channel;
  std::string payload;
  int64_t stamp_ns = 0;
  // The publishing subscriber, compared (never dereferenced) on the origin worker only.
  const pubsub::Subscriber* sender = nullptr;
  uint32_t origin = 0;  // the worker it was published on
  wire::PayloadKind kind = wire::PayloadKind::kBinary;
  bool echo = false;

  // A view for LocalFanout on worker `self` (the sender only counts where it lives).
  Message view(uint32_t self) const noexcept;
};

struct Envelope {
  enum class Kind : uint8_t {
    kPublish,      // to the channel's owner: msg, done
    kDeliver,      // owner -> a worker with subscribers: msg
    kReply,        // owner -> the publishing worker: done, result
    kSubscribe,    // a worker's first local subscriber of `channel`, to its owner
    kUnsubscribe,  // its last one left
    kDrain,        // SIGTERM reached the first worker
    kReload,       // SIGHUP reached the first worker
  };
  Kind kind = Kind::kDeliver;
  uint32_t from = 0;
  std::shared_ptr<const SharedMessage> msg;
  std::string channel;
  // The publisher's completion, carried to the owner and back; only run on `from`.
  std::unique_ptr<PublishDone> done;
  PublishResult result;
};

class WorkerHub {
 public:
  // Envelopes each inbox holds; a publish that finds its owner's inbox full is refused
  // (the publisher sees it: error ack, 503, close 1013), never dropped silently.
  static constexpr size_t kInboxCapacity = 16384;

  explicit WorkerHub(uint32_t workers);
  WorkerHub(const WorkerHub&) = delete;
  WorkerHub& operator=(const WorkerHub&) = delete;

  uint32_t size() const noexcept { return uint32_t(inboxes_.size()); }
  uint32_t owner_of(std::string_view channel) const noexcept;

  // Any thread: queues e for worker `to` and wakes it. False (e untouched) when full.
  bool post(uint32_t to, Envelope& e) noexcept;
  net::MpscQueue<Envelope>& inbox(uint32_t w) noexcept { return inboxes_[w]->queue; }
  net::EventFd& wake(uint32_t w) noexcept { return *inboxes_[w]->wake; }

  // Workers with at least one pattern subscriber: they get every channel's messages.
  void set_patterns(uint32_t w, bool wanted) noexcept;
  uint64_t pattern_workers() const noexcept { return patterns_.load(std::memory_order_acquire); }

  // Metrics: each worker copies its Stats here once a second (and at a scrape, the
  // scraping worker its own); sum() adds the copies of the others to `own`.
  void save_stats(uint32_t w, const Stats& s);
  Stats sum(uint32_t self, const Stats& own);
  std::vector<uint64_t> connections_by_worker(uint32_t self, const Stats& own);

 private:
  struct Inbox {
    Inbox() : queue(kInboxCapacity), wake(net::EventFd::create()) {}
    net::MpscQueue<Envelope> queue;
    std::unique_ptr<net::EventFd> wake;
  };
  struct Saved {
    std::mutex mu;  // taken once a second per worker and per scrape: never per message
    Stats stats;
  };
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<Saved>> saved_;
  std::atomic<uint64_t> patterns_{0};
};

// Every counter and gauge of `s` added to `into` (gauges such as channels count a channel
// once per worker that has subscribers of it).
void add_stats(Stats& into, const Stats& s);

}  // namespace relay::daemon
