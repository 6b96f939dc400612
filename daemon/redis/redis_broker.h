// SPDX-License-Identifier: MIT
// RedisBroker: the Broker for several nodes (README "Several nodes (Redis)"). Two hiredis
// connections driven by our reactor (redis_adapter.h): one PUBLISHes, the other is in
// subscribe mode. The node SUBSCRIBEs to prefix+channel when the channel gets its first
// local subscriber and UNSUBSCRIBEs when its last leaves; while it has pattern subscribers
// it PSUBSCRIBEs prefix* (every channel) and matches our patterns locally.
//
// A publish is fanned out locally and acknowledged when Redis has replied to its PUBLISH
// (so per-publisher order holds); the node skips its own messages when they come back.
// While Redis is down every publish fails (accepted = false) and the node reconnects with
// capped backoff, then SUBSCRIBEs to everything again. No history across nodes yet:
// history() is null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "broker.h"
#include "config.h"
#include "net/reactor.h"
#include "stats.h"

struct redisAsyncContext;
struct redisReply;

namespace relay::daemon::redis {

class RedisBroker final : public Broker {
 public:
  // password: the content of broker.password_file ("" = no AUTH). Connects at once.
  RedisBroker(net::Reactor& reactor, FanoutTarget& local, Stats& stats, BrokerConfig config,
              std::string password);
  ~RedisBroker() override;

  void publish(const Message& m, PublishDone done) override;
  void subscribe(std::string_view channel) override;
  void unsubscribe(std::string_view channel) override;
  void patterns(bool wanted) override;
  bool up() const noexcept override { return up_; }

 private:
  struct Pending;
  void connect() noexcept;
  redisAsyncContext* open() noexcept;
  void lost(const redisAsyncContext* ac) noexcept;
  void retry_later() noexcept;
  void maybe_up() noexcept;
  void send_subscribe(std::string_view verb, const std::string* first, size_t n) noexcept;
  void subscribe_all() noexcept;
  void on_sub_event(redisReply* r) noexcept;
  void deliver(std::string_view key, std::string_view bytes) noexcept;
  std::string key_of(std::string_view channel) const {
    return config_.prefix + std::string(channel);
  }

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_hello(redisAsyncContext* ac, void* reply, void* data);
  static void on_sub_reply(redisAsyncContext* ac, void* reply, void* data);
  static void on_published(redisAsyncContext* ac, void* reply, void* data);
  static void on_retry(void* data) noexcept;

  net::Reactor& reactor_;
  FanoutTarget& local_;
  Stats& stats_;
  BrokerConfig config_;
  std::string password_;
  uint64_t node_id_;  // random: tells our own messages apart when they come back
  redisAsyncContext* pub_ = nullptr;
  redisAsyncContext* sub_ = nullptr;
  bool pub_ready_ = false;  // connected, AUTH done
  bool sub_ready_ = false;  // connected, AUTH done, SUBSCRIBEs may go
  bool up_ = false;
  bool ever_up_ = false;
  bool closing_ = false;  // destructor: completions no longer reach the sessions
  int failures_ = 0;      // in a row: the backoff exponent
  net::Timer retry_;
  std::unordered_set<std::string> wanted_;  // channels with local subscribers
  // Keys with an UNSUBSCRIBE in flight: at most one each, since hiredis 0.14 calls us for
  // the first confirmation only (it forgets the channel's callback then).
  std::unordered_set<std::string> unsubbing_;
  bool patterns_wanted_ = false;
  bool psub_active_ = false;  // PSUBSCRIBE confirmed: deliver pmessage, drop message
  bool punsubbing_ = false;   // a PUNSUBSCRIBE in flight
  std::string all_keys_;      // the PSUBSCRIBE pattern: prefix (glob-escaped) + "*"
};

}  // namespace relay::daemon::redis
