// SPDX-License-Identifier: MIT
// Stats -> prometheus-cpp families (see metrics.h). Names, types and labels follow README.md.
#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>
#include <vector>

#include "auth/identity.h"

namespace relay::daemon {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

void advance(Counter* c, uint64_t now, uint64_t before) {
  if (now > before) c->Increment(static_cast<double>(now - before));
}

std::string as_label(uint16_t key) { return std::to_string(key); }

// A labelled counter per label value ({code="1000"}), created the first time it appears;
// `label_of` maps a key to its label value (several keys may share one).
void advance_labelled(Family<Counter>* family, const char* label,
                      const std::map<uint16_t, uint64_t>& now,
                      const std::map<uint16_t, uint64_t>& before,
                      std::string (*label_of)(uint16_t) = as_label) {
  for (const auto& [key, value] : now) {
    const auto it = before.find(key);
    const uint64_t old = it == before.end() ? 0 : it->second;
    if (value > old)
      family->Add({{label, label_of(key)}}).Increment(static_cast<double>(value - old));
  }
}

// wsrelay's own close codes (README "Close codes and HTTP statuses").
constexpr uint16_t kOwnCodes[] = {4001, 4003, 4004, 4008, 4009};

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  auto counter = [&r](const char* name, const char* help) -> Family<Counter>& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  };
  auto gauge = [&r](const char* name, const char* help) -> Family<Gauge>& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  };
  connections_ = &gauge("wsrelay_connections", "Open connections (HTTP and WebSocket).").Add({});
  accepted_ = &counter("wsrelay_connections_accepted_total", "TCP connections accepted.").Add({});
  closed_ = &counter(
      "wsrelay_connections_closed_total",
      "WebSocket connections closed, by the close code sent or received (1006 = no close frame).");
  handshake_failures_ =
      &counter("wsrelay_handshake_failures_total", "Upgrades refused, by HTTP status.");
  // Series for the codes README.md documents exist from the start at 0, so rate() and alerts
  // work before the first event; other codes appear when they first happen.
  for (const char* code : {"1000", "1001", "1002", "1006", "1007", "1008", "1009", "4001", "4003",
                           "4004", "4008", "4009"})
    closed_->Add({{"code", code}});
  for (const char* status : {"400", "401", "403", "408", "426", "431", "503"})
    handshake_failures_->Add({{"status", status}});
  messages_received_ =
      &counter("wsrelay_messages_received_total", "WebSocket messages received from clients.")
           .Add({});
  bytes_received_ =
      &counter("wsrelay_bytes_received_total", "Payload bytes of the messages received.").Add({});
  auto& published =
      counter("wsrelay_messages_published_total", "Messages published, by source (ws or http).");
  published_ws_ = &published.Add({{"source", "ws"}});
  published_http_ = &published.Add({{"source", "http"}});
  delivered_ =
      &counter("wsrelay_messages_delivered_total", "Deliveries: one per message per subscriber.")
           .Add({});
  bytes_delivered_ =
      &counter("wsrelay_bytes_delivered_total", "Payload bytes of the deliveries.").Add({});
  slow_consumer_closes_ =
      &counter("wsrelay_slow_consumer_closes_total", "Clients closed for an over-full queue.")
           .Add({});
  auto& refused = counter("wsrelay_connections_refused_total",
                          "Connections refused before any request was read, by cause.");
  for (size_t i = 0; i < refused_.size(); ++i)
    refused_[i] = &refused.Add({{"cause", kRefusedCauseLabels[i]}});
  auto& rate_limited = counter("wsrelay_rate_limited_total",
                               "Publishes refused by a rate limit, by path (ws, raw, http).");
  for (size_t i = 0; i < rate_limited_.size(); ++i)
    rate_limited_[i] = &rate_limited.Add({{"path", kRateLimitedPathLabels[i]}});
  auto& auth_failures = counter("wsrelay_auth_failures_total",
                                "Tokens refused on connections, by reason (missing = none sent).");
  for (size_t i = 1; i < auth_failures_.size(); ++i) {  // slot 0 is "ok"
    const std::string reason = i == kAuthMissingSlot
                                   ? std::string("missing")
                                   : std::string(auth::failure_name(auth::AuthFailure(i)));
    auth_failures_[i] = &auth_failures.Add({{"reason", reason}});
  }
  channels_ = &gauge("wsrelay_channels", "Channels with at least one subscriber.").Add({});
  latency_ = &prometheus::BuildHistogram()
                  .Name("wsrelay_publish_to_write_seconds")
                  .Help("From a message's arrival to its write to a subscriber's socket.")
                  .Register(r)
                  .Add({}, prometheus::Histogram::BucketBoundaries(Stats::kLatencyBounds.begin(),
                                                                   Stats::kLatencyBounds.end()));
  prometheus::BuildGauge()
      .Name("wsrelay_build_info")
      .Help("Always 1; the version label says which wsrelay this is.")
      .Register(r)
      .Add({{"version", WSRELAY_VERSION}})
      .Set(1);
  process_ = std::make_unique<ProcessMetrics>(r);
  auto& reloads =
      counter("wsrelay_config_reloads_total", "SIGHUP config reloads, by result (ok or error).");
  reloads_ok_ = &reloads.Add({{"result", "ok"}});
  reloads_error_ = &reloads.Add({{"result", "error"}});
  queued_bytes_ = &gauge("wsrelay_queued_bytes",
                         "Memory held by all clients' send queues (limits.max_total_queue_bytes).")
                       .Add({});
  queue_evictions_ =
      &counter("wsrelay_queue_evictions_total",
               "Clients closed because all queues together went over max_total_queue_bytes "
               "(counted in wsrelay_slow_consumer_closes_total too).")
           .Add({});
  publisher_pushbacks_ =
      &counter("wsrelay_publisher_pushbacks_total",
               "Times a publisher was not read until its last message left most subscribers' "
               "queues (fair turns: TCP pushes back on it).")
           .Add({});
  compression_in_ = &counter("wsrelay_compression_bytes_in_total",
                             "Payload bytes compressed for permessage-deflate subscribers "
                             "(once per message and encoding).")
                         .Add({});
  compression_out_ =
      &counter("wsrelay_compression_bytes_out_total", "What those bytes compressed to.").Add({});
  history_messages_ =
      &gauge("wsrelay_history_messages", "Messages stored in channel history.").Add({});
  history_bytes_ =
      &gauge("wsrelay_history_bytes", "Payload bytes stored in channel history.").Add({});
  auto& recoveries = counter("wsrelay_recoveries_total",
                             "Subscribes with recover (/ws) or since (raw), by result.");
  for (size_t i = 0; i < recoveries_.size(); ++i)
    recoveries_[i] = &recoveries.Add({{"result", kRecoveryResultLabels[i]}});
  broker_up_ =
      &gauge("wsrelay_broker_up",
             "1 while the broker works (always with broker.type memory; redis: connected).")
           .Add({});
  broker_reconnects_ =
      &counter("wsrelay_broker_reconnects_total", "Times the Redis broker came back after a loss.")
           .Add({});
  auto& broker_messages = counter("wsrelay_broker_messages_total",
                                  "Messages through Redis: out = PUBLISHes Redis accepted, in = "
                                  "messages of other nodes received.");
  broker_in_ = &broker_messages.Add({{"direction", "in"}});
  broker_out_ = &broker_messages.Add({{"direction", "out"}});
  broker_publish_ = &prometheus::BuildHistogram()
                         .Name("wsrelay_broker_publish_seconds")
                         .Help("From sending a PUBLISH to Redis to its reply.")
                         .Register(r)
                         .Add({}, prometheus::Histogram::BucketBoundaries(
                                      Stats::kLatencyBounds.begin(), Stats::kLatencyBounds.end()));
  // Per worker (README "Scaling"); with one worker its one series is wsrelay_connections.
  worker_connections_ =
      &gauge("wsrelay_worker_connections", "Open connections per worker (event loop).");
  worker0_ = &worker_connections_->Add({{"worker", "0"}});
}

void Metrics::update(const Stats& s) {
  connections_->Set(static_cast<double>(s.connections));
  channels_->Set(static_cast<double>(s.channels));
  advance(accepted_, s.accepted_total, last_.accepted_total);
  advance_labelled(closed_, "code", s.closed_by_code, last_.closed_by_code, close_code_label);
  advance_labelled(handshake_failures_, "status", s.handshake_failures_by_status,
                   last_.handshake_failures_by_status);
  advance(messages_received_, s.messages_received, last_.messages_received);
  advance(bytes_received_, s.bytes_received, last_.bytes_received);
  advance(published_ws_, s.published_ws, last_.published_ws);
  advance(published_http_, s.published_http, last_.published_http);
  advance(delivered_, s.messages_delivered, last_.messages_delivered);
  advance(bytes_delivered_, s.bytes_delivered, last_.bytes_delivered);
  advance(slow_consumer_closes_, s.slow_consumer_closes, last_.slow_consumer_closes);
  for (size_t i = 0; i < refused_.size(); ++i) advance(refused_[i], s.refused[i], last_.refused[i]);
  for (size_t i = 0; i < rate_limited_.size(); ++i)
    advance(rate_limited_[i], s.rate_limited[i], last_.rate_limited[i]);
  for (size_t i = 1; i < auth_failures_.size(); ++i)
    advance(auth_failures_[i], s.auth_failures[i], last_.auth_failures[i]);
  advance(reloads_ok_, s.reloads_ok, last_.reloads_ok);
  advance(reloads_error_, s.reloads_error, last_.reloads_error);
  queued_bytes_->Set(static_cast<double>(s.queued_bytes));
  advance(queue_evictions_, s.queue_evictions, last_.queue_evictions);
  advance(publisher_pushbacks_, s.publisher_pushbacks, last_.publisher_pushbacks);
  advance(compression_in_, s.compression_bytes_in, last_.compression_bytes_in);
  advance(compression_out_, s.compression_bytes_out, last_.compression_bytes_out);
  history_messages_->Set(static_cast<double>(s.history_messages));
  history_bytes_->Set(static_cast<double>(s.history_bytes));
  for (size_t i = 0; i < recoveries_.size(); ++i)
    advance(recoveries_[i], s.recoveries[i], last_.recoveries[i]);

  broker_up_->Set(static_cast<double>(s.broker_up));
  advance(broker_reconnects_, s.broker_reconnects, last_.broker_reconnects);
  advance(broker_in_, s.broker_messages_in, last_.broker_messages_in);
  advance(broker_out_, s.broker_messages_out, last_.broker_messages_out);
  if (s.broker_publish_count > last_.broker_publish_count) {
    std::vector<double> increments(s.broker_publish_buckets.size());
    for (size_t i = 0; i < increments.size(); ++i)
      increments[i] =
          static_cast<double>(s.broker_publish_buckets[i] - last_.broker_publish_buckets[i]);
    broker_publish_->ObserveMultiple(
        increments, std::max(0.0, s.broker_publish_sum - last_.broker_publish_sum));
  }

  // Our buckets are already counted (Stats::observe_latency); hand over the new counts.
  if (s.latency_count > last_.latency_count) {
    std::vector<double> increments(s.latency_buckets.size());
    for (size_t i = 0; i < increments.size(); ++i)
      increments[i] = s.latency_buckets[i] > last_.latency_buckets[i]
                          ? static_cast<double>(s.latency_buckets[i] - last_.latency_buckets[i])
                          : 0.0;
    latency_->ObserveMultiple(increments, std::max(0.0, s.latency_sum - last_.latency_sum));
  }
  if (!several_workers_) worker0_->Set(static_cast<double>(s.connections));
  last_ = s;
}

// Several workers: each one's open connections (the first worker's set by update() until
// this is called).
void Metrics::update_workers(const std::vector<uint64_t>& connections) {
  several_workers_ = true;
  for (size_t w = 0; w < connections.size(); ++w)
    worker_connections_->Add({{"worker", std::to_string(w)}}).Set(double(connections[w]));
}

std::string Metrics::close_code_label(uint16_t code) {
  // 1004 is reserved; 1005 (no code in the close frame), 1006 (no close frame) and 1015 are
  // what we record when there was no code on the wire.
  if (code >= 1000 && code <= 1015 && code != 1004) return std::to_string(code);
  for (uint16_t own : kOwnCodes)
    if (code == own) return std::to_string(code);
  if (code >= 3000 && code <= 3999) return "3xxx";
  if (code >= 4000 && code <= 4999) return "4xxx";
  return "other";
}

std::string Metrics::serialize() const {
  process_->refresh();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace relay::daemon
