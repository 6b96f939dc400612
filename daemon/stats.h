// SPDX-License-Identifier: MIT
// Stats: plain counters the event loop bumps (as Redis keeps server.stat_*). A 1 s timer
// copies them into the prometheus-cpp families (metrics.cpp), so the fan-out path never
// touches the registry. Single-threaded: only the loop thread writes them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>

namespace relay::daemon {

// Why a connection was refused (wsrelay_connections_refused_total{cause}); bounded labels.
enum class RefusedCause : uint8_t {
  kMaxConnections,  // limits.max_connections: every accepted socket counts
  kFdLimit,         // EMFILE/ENFILE: answered through the reserved descriptor
  kPerIp,           // connections per client IP
  kPerUser,         // connections per token `sub`
  kCount
};
constexpr const char* kRefusedCauseLabels[] = {"max_connections", "fd_limit", "per_ip", "per_user"};
static_assert(std::size(kRefusedCauseLabels) == size_t(RefusedCause::kCount));

// How a recovery ended (wsrelay_recoveries_total{result}), in HistoryStatus order.
constexpr const char* kRecoveryResultLabels[] = {"recovered", "epoch_changed", "offset_too_old",
                                                 "no_history"};
// Where a publish was refused by a rate limit (wsrelay_rate_limited_total{path}).
enum class RateLimitedPath : uint8_t { kWs, kRaw, kHttp, kCount };
constexpr const char* kRateLimitedPathLabels[] = {"ws", "raw", "http"};
static_assert(std::size(kRateLimitedPathLabels) == size_t(RateLimitedPath::kCount));
// wsrelay_auth_failures_total{reason}: one slot per auth::AuthFailure (failure_name()), and
// the last for a connection that brought no token where one is required ("missing").
constexpr size_t kAuthFailureSlots = 12;
constexpr size_t kAuthMissingSlot = kAuthFailureSlots - 1;

struct Stats {
  uint64_t connections = 0;  // open now (HTTP and WebSocket)
  uint64_t accepted_total = 0;
  std::map<uint16_t, uint64_t> closed_by_code;                // close code -> count (1006 = none)
  std::map<uint16_t, uint64_t> handshake_failures_by_status;  // HTTP status -> count
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
  uint64_t published_ws = 0;
  uint64_t published_http = 0;
  uint64_t messages_delivered = 0;
  uint64_t bytes_delivered = 0;  // payload bytes
  uint64_t slow_consumer_closes = 0;
  uint64_t publisher_pushbacks = 0;  // publishers not read until their fan-out drained
  std::array<uint64_t, size_t(RefusedCause::kCount)> refused{};  // by RefusedCause
  void count_refused(RefusedCause c) noexcept { ++refused[size_t(c)]; }
  std::array<uint64_t, size_t(RateLimitedPath::kCount)> rate_limited{};  // by RateLimitedPath
  void count_rate_limited(RateLimitedPath p) noexcept { ++rate_limited[size_t(p)]; }
  std::array<uint64_t, kAuthFailureSlots> auth_failures{};  // by auth::AuthFailure value
  void count_auth_failure(size_t slot) noexcept { ++auth_failures[slot]; }
  uint64_t channels = 0;  // current
  uint64_t reloads_ok = 0;
  uint64_t reloads_error = 0;
  uint64_t queued_bytes = 0;  // memory held by all clients' queues (QueueBudget), per turn
  // Clients closed for max_total_queue_bytes (counted in slow_consumer_closes too).
  uint64_t queue_evictions = 0;
  // permessage-deflate: payload bytes compressed, and what they became (once per message
  // and encoding, not per subscriber).
  uint64_t compression_bytes_in = 0;
  uint64_t compression_bytes_out = 0;
  uint64_t history_messages = 0;  // current, stored for recovery
  uint64_t history_bytes = 0;     // current, their payloads
  std::array<uint64_t, std::size(kRecoveryResultLabels)> recoveries{};  // by HistoryStatus

  // publish-to-write latency, observed per written frame; bucket bounds in seconds.
  static constexpr std::array<double, 12> kLatencyBounds = {
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25};
  std::array<uint64_t, kLatencyBounds.size() + 1> latency_buckets{};  // last = +Inf
  double latency_sum = 0;
  uint64_t latency_count = 0;
  void observe_latency(double seconds) noexcept {
    size_t i = 0;
    while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
    ++latency_buckets[i];
    latency_sum += seconds;
    ++latency_count;
  }

  // The Redis broker (README "Several nodes (Redis)"); the memory broker is always up.
  uint64_t broker_up = 0;  // 1 while connected (gauge)
  uint64_t broker_reconnects = 0;
  uint64_t broker_messages_in = 0;   // messages received from Redis (other nodes')
  uint64_t broker_messages_out = 0;  // messages Redis accepted (PUBLISH replied)
  std::array<uint64_t, kLatencyBounds.size() + 1> broker_publish_buckets{};  // last = +Inf
  double broker_publish_sum = 0;
  uint64_t broker_publish_count = 0;
  void observe_broker_publish(double seconds) noexcept {
    size_t i = 0;
    while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
    ++broker_publish_buckets[i];
    broker_publish_sum += seconds;
    ++broker_publish_count;
  }
};

}  // namespace relay::daemon
