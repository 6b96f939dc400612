// SPDX-License-Identifier: MIT
// Fair turns: one client cannot hold the loop. Each client gets a budget per loop turn
// for the input it has processed and the fan-out its publishes started; once it is spent,
// its input waits (in its buffer, or in the kernel: reading stops) and is resumed in the
// before-sleep hook, after every other ready client had its turn and after the flush.
// Publisher pushback: a client whose last publish is still queued (not even handed to the
// kernel) in many of its subscribers is not read until they have caught up, so TCP slows
// it down instead of its subscribers being closed as slow consumers. README "Design".
#include <algorithm>

#include "server.h"

namespace relay::daemon {
namespace {
// Per client per turn. A delivery (a FrameRef queued to a subscriber plus its share of the
// flush's writev) costs about 0.1 us in the Release build on the CI machine, so 8,192
// deliveries are about 1 ms; with the flush of the subscribers that got them a flooder's
// turn stays a few ms, and the other clients' work waits at most that long per flooder
// (tests/bench/RESULTS.md, "canary under flood"). 256 messages and 256 KiB of payload bound
// a client that publishes to nobody (or sends pings) the same way; a bigger message still
// goes through (at least one per turn).
constexpr uint32_t kMessagesPerTurn = 256;
constexpr uint32_t kDeliveriesPerTurn = 8192;
constexpr uint64_t kInputBytesPerTurn = 256 * 1024;
// Pushback: stop reading a publisher while more than 1/4 of the subscribers its last
// message went to still hold it in their user-space queue after a flush (their kernel
// buffer is full: each is behind by a whole socket buffer); read it again once at most
// 1/8 do. A pushback lasts at most kPushbackMaxMs, so a subscriber that never reads slows
// a publisher down (to one turn's budget per pushback: 256 KiB per 10 ms) but cannot stop
// it: the queue limits close that subscriber meanwhile. 100 ms held a 10 MiB/s publisher
// to a quarter of its rate behind 2,000 never-readers (I1 in wsrelay-bench).
constexpr uint32_t kPushbackShare = 4;
constexpr uint32_t kResumeShare = 8;
constexpr int64_t kPushbackMaxMs = 10;

// Subscriber queues still holding the probe's frame (the probe's own reference aside).
uint32_t lagging(const FrameRef& f) noexcept {
  uint32_t refs = f.use_count();
  return refs > 1 ? refs - 1 : 0;
}
}  // namespace

bool Server::turn_budget_left(Client* c) noexcept {
  if (c->budget_turn != turn_) {
    c->budget_turn = turn_;
    c->turn_messages = 0;
    c->turn_deliveries = 0;
    c->turn_bytes = 0;
    c->probe_slot = 0;
    return true;
  }
  return c->turn_messages < kMessagesPerTurn && c->turn_deliveries < kDeliveriesPerTurn &&
         c->turn_bytes < kInputBytesPerTurn;
}

void Server::charge_message(Client* c, uint64_t deliveries, size_t bytes) noexcept {
  (void)turn_budget_left(c);  // starts this turn's count when it is the first message
  ++c->turn_messages;
  c->turn_deliveries = uint16_t(
      std::min<uint64_t>(uint64_t(c->turn_deliveries) + deliveries, 2 * kDeliveriesPerTurn));
  c->turn_bytes =
      uint32_t(std::min<uint64_t>(uint64_t(c->turn_bytes) + bytes, 2 * kInputBytesPerTurn));
  if (deliveries == 0) return;
  FrameRef f = fanout_.take_last_frame();
  if (!f) return;
  const uint32_t queued = lagging(f);
  if (c->probe_slot) {  // a later publish of the same turn replaces its probe
    PublishProbe& p = probes_[c->probe_slot - 1];
    p.frame = std::move(f);
    p.deliveries = queued;
  } else {
    probes_.push_back(PublishProbe{c, std::move(f), queued});
    c->probe_slot = uint32_t(probes_.size());
  }
}

void Server::hold_input(Client* c) noexcept {
  if (c->input_held || c->phase == ClientPhase::kDead) return;
  c->input_held = true;
  held_input_.push_back(c);
  set_interest(c, reactor_->interest(c->fd) & ~net::kReadable);
}

void Server::resume_reading(Client* c) noexcept {
  if (c->phase == ClientPhase::kDead || reading_stopped(c)) return;
  set_interest(c, reactor_->interest(c->fd) | net::kReadable);
}

// Before-sleep, after the flush: a publisher whose last frame is still queued in more than
// 1/kPushbackShare of the subscribers it went to is not read until they catch up.
void Server::check_probes() noexcept {
  for (PublishProbe& p : probes_) {
    Client* c = p.client;
    c->probe_slot = 0;
    if (c->phase == ClientPhase::kDead || c->pushed_back) continue;
    if (uint64_t(lagging(p.frame)) * kPushbackShare <= p.deliveries) continue;
    c->pushed_back = true;
    p.since_ms = now_ms();
    ++stats_.publisher_pushbacks;
    set_interest(c, reactor_->interest(c->fd) & ~net::kReadable);
    pushed_back_.push_back(std::move(p));
  }
  probes_.clear();
}

void Server::check_pushed_back() noexcept {
  const int64_t now = now_ms();
  int64_t next = INT64_MAX;
  std::erase_if(pushed_back_, [&](PublishProbe& p) {
    Client* c = p.client;
    if (c->phase == ClientPhase::kDead) {
      c->pushed_back = false;
      return true;
    }
    if (uint64_t(lagging(p.frame)) * kResumeShare > p.deliveries &&
        now - p.since_ms < kPushbackMaxMs) {
      next = std::min(next, p.since_ms + kPushbackMaxMs);
      return false;
    }
    // Caught up, or waited long enough: one more turn, judged by its next publish.
    c->pushed_back = false;
    hold_input(c);  // its buffered input first; reading resumes once that is done
    return true;
  });
  if (next != INT64_MAX) pushback_timer_.arm_at(next);
}

// Before-sleep, after the flush: each held client gets this turn's budget for the input
// it left; the deliveries it queues now are flushed at the end of the next turn, which
// does not wait in the poll (skip_next_wait) but serves the fds ready by then first.
void Server::resume_held_input() noexcept {
  resume_scratch_.swap(held_input_);
  for (Client* c : resume_scratch_) {
    c->input_held = false;
    if (c->phase == ClientPhase::kDead || c->pushed_back) continue;
    if (c->ws)
      process_ws_events(c);
    else if (c->http && c->phase == ClientPhase::kHttp)
      http_.process(c);
    resume_reading(c);  // no-op while held again
  }
  resume_scratch_.clear();
}

// Clients closed during this turn leave the lists before free_dead() frees them.
void Server::drop_dead_from_turn_lists() noexcept {
  std::erase_if(held_input_, [](Client* c) { return c->phase == ClientPhase::kDead; });
  std::erase_if(pending_, [](Client* c) { return c->phase == ClientPhase::kDead; });
  std::erase_if(probes_, [](const PublishProbe& p) {
    if (p.client->phase != ClientPhase::kDead) return false;
    p.client->probe_slot = 0;
    return true;
  });
  for (size_t i = 0; i < probes_.size(); ++i) probes_[i].client->probe_slot = uint32_t(i + 1);
}

void Server::on_pushback_timer(void*) noexcept {}  // before_sleep() checks the pushbacks

}  // namespace relay::daemon
