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
// capped backoff, then SUBSCRIBEs to everything again.
// Channels with history (redis_history.cpp): Redis assigns offsets and keeps the epoch and
// the stream (one Lua script per publish, redis_scripts.h); history() is a cache of those
// streams, loaded from Redis when a channel is first read here and kept in step by the
// messages this node delivers (dedupe and gap filling by offset).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker.h"
#include "config.h"
#include "history_store.h"
#include "net/reactor.h"
#include "presence.h"
#include "redis/redis_sync.h"
#include "stats.h"

struct redisAsyncContext;
struct redisReply;

namespace relay::daemon::redis {

class RedisBroker final : public Broker, public PresenceBackplane {
 public:
  // password: the content of broker.password_file ("" = no AUTH). Connects at once.
  // options: the server's config (channel options, history bound), kept by reference.
  RedisBroker(net::Reactor& reactor, FanoutTarget& local, Stats& stats, const Config& options,
              std::string password);
  ~RedisBroker() override;

  void publish(const Message& m, PublishDone done) override;
  void subscribe(std::string_view channel) override;
  void unsubscribe(std::string_view channel) override;
  void patterns(bool wanted) override;
  bool up() const noexcept override { return up_; }
  HistoryStore* history() noexcept override { return &cache_; }
  void attach_presence(Presence& presence) override;

  // PresenceBackplane (redis_presence.cpp)
  void joined(std::string_view channel, uint64_t client, std::string_view member_json) override;
  void left(std::string_view channel, uint64_t client, std::string_view member_json) override;
  bool members(std::string_view channel, std::vector<std::string>* out) override;

  // This node's presence entries stop counting this long after its last refresh (a node
  // killed with SIGKILL); refreshed every kPresenceRefreshMs.
  static constexpr int64_t kPresenceTtlMs = 10000;
  static constexpr int64_t kPresenceRefreshMs = 3000;

  // A silent address (no answer at all) is given up after this long.
  static constexpr int64_t kConnectTimeoutMs = 3000;
  // Bound on one blocking history read (redis_sync.h).
  static constexpr int64_t kReadTimeoutMs = 1000;

 private:
  struct Pending;
  struct Snapshot {
    StreamPosition top;
    std::vector<StoredMessage> entries;  // consecutive offsets, oldest first
  };
  // history (redis_history.cpp)
  void send_publish(Pending* p, bool by_sha) noexcept;
  void load(std::string_view channel);
  bool read(std::string_view channel, uint64_t first, Snapshot* out);
  size_t ingest(const Message& m) noexcept;
  size_t catch_up(std::string_view channel, const Message* trigger) noexcept;
  void lose(std::string_view channel, HistoryStatus why) noexcept;
  std::string new_epoch();
  std::string meta_key(std::string_view channel) const;
  std::string stream_key(std::string_view channel) const;
  static void on_script(redisAsyncContext* ac, void* reply, void* data);
  static void on_connect_timeout(void* data) noexcept;
  static void on_presence_refresh(void* data) noexcept;
  void presence_up() noexcept;  // (re)writes this node's entries and liveness key
  void presence_event(std::string_view channel, std::string_view bytes) noexcept;
  std::string presence_key(std::string_view channel) const;
  std::string presence_field(uint64_t client) const;
  std::string node_key() const;
  void drop_connections() noexcept;

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
  net::Timer connect_timeout_;
  const Config& options_;
  HistoryStore cache_;
  SyncConnection sync_;
  std::string script_sha_;  // of kPublishScript, from SCRIPT LOAD
  std::mt19937_64 rng_;
  Presence* presence_ = nullptr;
  net::Timer presence_refresh_;
  std::string node_hex_;  // node_id_ as 16 hex digits: presence fields and liveness key
  // This node's presence members by channel: client id -> member JSON (with "node"),
  // written again after a reconnect (Redis may have come back empty).
  std::unordered_map<std::string, std::unordered_map<uint64_t, std::string>> present_;
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
