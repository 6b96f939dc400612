// SPDX-License-Identifier: MIT
// Prometheus metrics (README "Metrics"): a prometheus-cpp registry filled from Stats by a
// periodic update() on the loop thread, and serialized in text format 0.0.4 for GET /metrics
// on our own listener. The fan-out path never touches the registry (STYLE.md §6).
// No metric has a per-channel label: channel names are unbounded; close codes are bucketed.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "process_metrics.h"
#include "stats.h"

namespace relay::daemon {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Copies `s` into the families: gauges are set; counters and the histogram are advanced by
  // what changed since the previous update() (prometheus-cpp counters only go up).
  void update(const Stats& s);
  // Several workers (README "Scaling"): open connections per worker, worker w at [w]
  // (with one, update() sets worker 0's).
  void update_workers(const std::vector<uint64_t>& connections);
  // The exposition text (Content-Type: text/plain; version=0.0.4; charset=utf-8). Reads the
  // process_* values from /proc first: they cost a directory listing, so only per scrape.
  std::string serialize() const;
  // The `code` label of wsrelay_connections_closed_total: registered codes (RFC 6455 §7.4.1,
  // IANA) and our documented ones as themselves, any other as "3xxx", "4xxx" or "other", so
  // a client choosing codes cannot make 2,000 series.
  static std::string close_code_label(uint16_t code);
  prometheus::Registry& registry() noexcept { return *registry_; }

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // Owned by registry_; families live as long as the registry.
  prometheus::Gauge* connections_ = nullptr;
  prometheus::Counter* accepted_ = nullptr;
  prometheus::Family<prometheus::Counter>* closed_ = nullptr;              // {code}
  prometheus::Family<prometheus::Counter>* handshake_failures_ = nullptr;  // {status}
  prometheus::Counter* messages_received_ = nullptr;
  prometheus::Counter* bytes_received_ = nullptr;
  prometheus::Counter* published_ws_ = nullptr;    // {source="ws"}
  prometheus::Counter* published_http_ = nullptr;  // {source="http"}
  prometheus::Counter* delivered_ = nullptr;
  prometheus::Counter* bytes_delivered_ = nullptr;
  prometheus::Counter* slow_consumer_closes_ = nullptr;
  std::array<prometheus::Counter*, size_t(RefusedCause::kCount)> refused_{};
  std::array<prometheus::Counter*, size_t(RateLimitedPath::kCount)> rate_limited_{};
  std::array<prometheus::Counter*, kAuthFailureSlots> auth_failures_{};  // {reason}
  prometheus::Gauge* channels_ = nullptr;
  prometheus::Histogram* latency_ = nullptr;
  prometheus::Counter* reloads_ok_ = nullptr;     // {result="ok"}
  prometheus::Counter* reloads_error_ = nullptr;  // {result="error"}

  prometheus::Gauge* queued_bytes_ = nullptr;
  prometheus::Counter* queue_evictions_ = nullptr;
  prometheus::Counter* publisher_pushbacks_ = nullptr;  // fair_turns.cpp
  prometheus::Counter* compression_in_ = nullptr;       // permessage-deflate, bytes before
  prometheus::Counter* compression_out_ = nullptr;      // and after
  prometheus::Gauge* history_messages_ = nullptr;
  prometheus::Gauge* history_bytes_ = nullptr;
  std::array<prometheus::Counter*, std::size(kRecoveryResultLabels)> recoveries_{};  // {result}
  // The Redis broker (README "Several nodes (Redis)").
  prometheus::Gauge* broker_up_ = nullptr;
  prometheus::Counter* broker_reconnects_ = nullptr;
  prometheus::Counter* broker_in_ = nullptr;   // {direction="in"}
  prometheus::Counter* broker_out_ = nullptr;  // {direction="out"}
  prometheus::Histogram* broker_publish_ = nullptr;
  prometheus::Family<prometheus::Gauge>* worker_connections_ = nullptr;  // {worker}
  prometheus::Gauge* worker0_ = nullptr;
  bool several_workers_ = false;             // update_workers() called: it sets every worker's
  Stats last_;                               // what the previous update() copied
  std::unique_ptr<ProcessMetrics> process_;  // refreshed by serialize() (const)
};

}  // namespace relay::daemon
