// SPDX-License-Identifier: MIT
#include "worker_hub.h"

#include <functional>

#include "base/assert.h"
#include "base/bytes.h"

namespace relay::daemon {

Message SharedMessage::view(uint32_t self) const noexcept {
  Message m;
  m.channel = channel;
  m.payload = as_bytes(payload);
  m.sender = self == origin ? sender : nullptr;
  m.stamp_ns = stamp_ns;
  m.kind = kind;
  m.echo = echo;
  return m;
}

WorkerHub::WorkerHub(uint32_t workers) {
  for (uint32_t i = 0; i < workers; ++i) {
    inboxes_.push_back(std::make_unique<Inbox>());
    RELAY_ASSERT(inboxes_.back()->wake != nullptr);  // out of descriptors at start-up
    saved_.push_back(std::make_unique<Saved>());
  }
}

uint32_t WorkerHub::owner_of(std::string_view channel) const noexcept {
  return uint32_t(std::hash<std::string_view>{}(channel) % inboxes_.size());
}

bool WorkerHub::post(uint32_t to, Envelope& e) noexcept {
  Inbox& in = *inboxes_[to];
  if (!in.queue.try_push(std::move(e))) return false;
  in.wake->signal();
  return true;
}

void WorkerHub::set_patterns(uint32_t w, bool wanted) noexcept {
  const uint64_t bit = uint64_t(1) << w;
  if (wanted)
    patterns_.fetch_or(bit, std::memory_order_acq_rel);
  else
    patterns_.fetch_and(~bit, std::memory_order_acq_rel);
}

void WorkerHub::save_stats(uint32_t w, const Stats& s) {
  Saved& saved = *saved_[w];
  std::lock_guard lock(saved.mu);
  saved.stats = s;
}

Stats WorkerHub::sum(uint32_t self, const Stats& own) {
  Stats total = own;
  for (uint32_t w = 0; w < saved_.size(); ++w) {
    if (w == self) continue;
    std::lock_guard lock(saved_[w]->mu);
    add_stats(total, saved_[w]->stats);
  }
  return total;
}

std::vector<uint64_t> WorkerHub::connections_by_worker(uint32_t self, const Stats& own) {
  std::vector<uint64_t> out(saved_.size());
  for (uint32_t w = 0; w < saved_.size(); ++w) {
    if (w == self) {
      out[w] = own.connections;
      continue;
    }
    std::lock_guard lock(saved_[w]->mu);
    out[w] = saved_[w]->stats.connections;
  }
  return out;
}

namespace {

template <typename A>
void add_each(A& into, const A& s) {
  for (size_t i = 0; i < into.size(); ++i) into[i] += s[i];
}

template <typename M>
void add_map(M& into, const M& s) {
  for (const auto& [k, v] : s) into[k] += v;
}

}  // namespace

void add_stats(Stats& into, const Stats& s) {
  into.connections += s.connections;
  into.accepted_total += s.accepted_total;
  add_map(into.closed_by_code, s.closed_by_code);
  add_map(into.handshake_failures_by_status, s.handshake_failures_by_status);
  into.messages_received += s.messages_received;
  into.bytes_received += s.bytes_received;
  into.published_ws += s.published_ws;
  into.published_http += s.published_http;
  into.messages_delivered += s.messages_delivered;
  into.bytes_delivered += s.bytes_delivered;
  into.slow_consumer_closes += s.slow_consumer_closes;
  into.publisher_pushbacks += s.publisher_pushbacks;
  add_each(into.refused, s.refused);
  add_each(into.rate_limited, s.rate_limited);
  add_each(into.auth_failures, s.auth_failures);
  into.channels += s.channels;
  // reloads_ok/error: every worker reloads on the same SIGHUP; the first one's count is
  // the process's (one reload, not N).
  into.queued_bytes += s.queued_bytes;
  into.queue_evictions += s.queue_evictions;
  into.compression_bytes_in += s.compression_bytes_in;
  into.compression_bytes_out += s.compression_bytes_out;
  into.history_messages += s.history_messages;
  into.history_bytes += s.history_bytes;
  add_each(into.recoveries, s.recoveries);
  add_each(into.latency_buckets, s.latency_buckets);
  into.latency_sum += s.latency_sum;
  into.latency_count += s.latency_count;
  into.broker_up = into.broker_up && s.broker_up;  // up when every worker's broker is
  into.broker_reconnects += s.broker_reconnects;
  into.broker_messages_in += s.broker_messages_in;
  into.broker_messages_out += s.broker_messages_out;
  add_each(into.broker_publish_buckets, s.broker_publish_buckets);
  into.broker_publish_sum += s.broker_publish_sum;
  into.broker_publish_count += s.broker_publish_count;
}

}  // namespace relay::daemon
