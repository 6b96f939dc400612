// SPDX-License-Identifier: MIT
#include "redis/redis_broker.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "redis/redis_adapter.h"
#include "redis/redis_message.h"
#include "redis/redis_scripts.h"

namespace relay::daemon::redis {
namespace {

constexpr int64_t kFirstRetryMs = 100;
constexpr int64_t kMaxRetryMs = 5000;
constexpr size_t kKeysPerSubscribe = 512;

uint64_t random_node_id() {
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, 0) != sizeof id)
    id = uint64_t(monotonic_ns()) ^ uint64_t(::getpid());
  return id;
}

// PSUBSCRIBE takes a glob: our prefix is matched literally.
std::string glob_escaped(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

// Strings, statuses and error texts.
std::string_view str_of(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
               r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

int command(redisAsyncContext* ac, redisCallbackFn* fn, void* data,
            std::initializer_list<std::string_view> args) {
  const char* argv[12];
  size_t lens[12];
  int n = 0;
  for (std::string_view a : args) {
    argv[n] = a.data();
    lens[n++] = a.size();
  }
  return redisAsyncCommandArgv(ac, fn, data, n, argv, lens);
}

}  // namespace

// One PUBLISH awaiting its reply: what the local fan-out and the completion need then.
struct RedisBroker::Pending {
  RedisBroker* self;
  PublishDone done;
  int64_t stamp_ns;
  int64_t sent_ns;
  const pubsub::Subscriber* sender;  // kept allocated by the session's completion
  bool echo;
  wire::PayloadKind kind;
  std::string channel;
  std::string body;  // header + payload
  // A channel with history goes through kPublishScript (0: a plain PUBLISH).
  uint32_t history_size = 0;
  uint32_t history_ttl_s = 0;
  bool retried = false;  // sent again as EVAL after NOSCRIPT
};

RedisBroker::RedisBroker(net::Reactor& reactor, FanoutTarget& local, Stats& stats,
                         const Config& options, std::string password)
    : reactor_(reactor),
      local_(local),
      stats_(stats),
      config_(options.broker),
      password_(std::move(password)),
      node_id_(random_node_id()),
      retry_(reactor, &RedisBroker::on_retry, this),
      connect_timeout_(reactor, &RedisBroker::on_connect_timeout, this),
      options_(options),
      cache_(options.limits.max_history_bytes),
      sync_(config_.address, config_.username, password_, kReadTimeoutMs),
      rng_(node_id_),
      presence_refresh_(reactor, &RedisBroker::on_presence_refresh, this),
      all_keys_(glob_escaped(config_.prefix) + "*") {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(node_id_));
  node_hex_ = hex;
  cache_.set_loader([this](std::string_view channel) { load(channel); });
  connect();
}

RedisBroker::~RedisBroker() {
  closing_ = true;
  for (redisAsyncContext** ac : {&pub_, &sub_}) {
    if (redisAsyncContext* c = *ac) {
      *ac = nullptr;
      redisAsyncFree(c);  // pending PUBLISHes complete with no reply: dropped (closing_)
    }
  }
}

redisAsyncContext* RedisBroker::open() noexcept {
  redisAsyncContext* ac = nullptr;
  const std::string& a = config_.address;
  if (!a.empty() && a[0] == '/') {
    ac = redisAsyncConnectUnix(a.c_str());
  } else {
    const size_t colon = a.rfind(':');
    const std::string host = a.substr(0, colon);
    const int port = colon == std::string::npos ? 6379 : std::atoi(a.c_str() + colon + 1);
    ac = redisAsyncConnect(host.c_str(), port);
  }
  if (!ac) return nullptr;
  if (ac->err || !attach(ac, reactor_)) {
    spdlog::debug("broker: cannot connect to redis {}: {}", a, ac->errstr ? ac->errstr : "?");
    redisAsyncFree(ac);
    return nullptr;
  }
  ac->data = this;
  redisAsyncSetConnectCallback(ac, &RedisBroker::on_connect);
  redisAsyncSetDisconnectCallback(ac, &RedisBroker::on_disconnect);
  if (!password_.empty()) {
    if (config_.username.empty())
      command(ac, &RedisBroker::on_hello, this, {"AUTH", password_});
    else
      command(ac, &RedisBroker::on_hello, this, {"AUTH", config_.username, password_});
  }
  return ac;
}

void RedisBroker::connect() noexcept {
  pub_ = open();
  sub_ = open();
  if (!pub_ || !sub_) {
    lost(pub_ ? pub_ : sub_);
    retry_later();
    return;
  }
  // The script before the PONG: no publish can go before its sha is known.
  command(pub_, &RedisBroker::on_script, this, {"SCRIPT", "LOAD", kPublishScript});
  // The PONG says the connection works (and AUTH passed): only then may SUBSCRIBEs go.
  for (redisAsyncContext* ac : {pub_, sub_}) command(ac, &RedisBroker::on_hello, this, {"PING"});
  // hiredis 0.14's async connect has no timeout: a silent address would hang here forever.
  connect_timeout_.arm_after(kConnectTimeoutMs);
}

void RedisBroker::on_connect_timeout(void* data) noexcept {
  auto* self = static_cast<RedisBroker*>(data);
  if (self->pub_ready_ && self->sub_ready_) return;
  spdlog::warn("broker: redis {} did not answer within {} ms", self->config_.address,
               kConnectTimeoutMs);
  self->drop_connections();
  self->retry_later();
}

void RedisBroker::on_script(redisAsyncContext* /*ac*/, void* reply, void* data) {
  auto* self = static_cast<RedisBroker*>(data);
  auto* r = static_cast<redisReply*>(reply);
  if (!r || self->closing_) return;
  if (r->type == REDIS_REPLY_STRING)
    self->script_sha_.assign(r->str, r->len);
  else
    spdlog::error("broker: redis refused the publish script: {}", str_of(r));
}

void RedisBroker::on_connect(const redisAsyncContext* ac, int status) {
  if (status != REDIS_OK) static_cast<RedisBroker*>(ac->data)->lost(ac);
}

void RedisBroker::on_disconnect(const redisAsyncContext* ac, int /*status*/) {
  static_cast<RedisBroker*>(ac->data)->lost(ac);
}

void RedisBroker::on_hello(redisAsyncContext* ac, void* reply, void* data) {
  auto* self = static_cast<RedisBroker*>(data);
  auto* r = static_cast<redisReply*>(reply);
  if (!r || self->closing_) return;
  if (r->type == REDIS_REPLY_ERROR) {
    spdlog::error("broker: redis refused the connection: {}", str_of(r));
    redisAsyncDisconnect(ac);
    return;
  }
  if (str_of(r) != "PONG") return;  // AUTH's OK
  if (ac == self->pub_) self->pub_ready_ = true;
  if (ac == self->sub_) {
    self->sub_ready_ = true;
    self->subscribe_all();
  }
  self->maybe_up();
}

void RedisBroker::maybe_up() noexcept {
  if (up_ || !pub_ready_ || !sub_ready_) return;
  up_ = true;
  connect_timeout_.cancel();
  stats_.broker_up = 1;
  if (ever_up_) ++stats_.broker_reconnects;
  ever_up_ = true;
  failures_ = 0;
  spdlog::info("broker: connected to redis {}", config_.address);
  presence_up();
}

// Either connection failed or closed: the node is down until both are back.
void RedisBroker::lost(const redisAsyncContext* ac) noexcept {
  if (ac == nullptr) return;
  if (ac == pub_) {
    pub_ = nullptr;
    pub_ready_ = false;
  } else if (ac == sub_) {
    sub_ = nullptr;
    sub_ready_ = false;
    psub_active_ = false;
    unsubbing_.clear();
    punsubbing_ = false;
  } else {
    return;  // one we freed ourselves
  }
  if (up_) {
    up_ = false;
    stats_.broker_up = 0;
    spdlog::warn("broker: lost redis {}; publishes fail until it is back", config_.address);
  }
  if (!closing_) retry_later();
}

void RedisBroker::retry_later() noexcept {
  if (retry_.is_armed()) return;
  const int64_t delay = std::min(kMaxRetryMs, kFirstRetryMs << std::min(failures_, 6));
  ++failures_;
  retry_.arm_after(delay);
}

void RedisBroker::drop_connections() noexcept {
  for (redisAsyncContext** ac : {&pub_, &sub_}) {
    if (redisAsyncContext* c = *ac) {
      *ac = nullptr;
      redisAsyncFree(c);
    }
  }
  sync_.close();
  pub_ready_ = sub_ready_ = false;
  psub_active_ = false;
  unsubbing_.clear();
  punsubbing_ = false;
  if (up_) {
    up_ = false;
    stats_.broker_up = 0;
    spdlog::warn("broker: lost redis {}; publishes fail until it is back", config_.address);
  }
}

// Starts both connections afresh (the survivor of a half-lost pair too: one state).
void RedisBroker::on_retry(void* data) noexcept {
  auto* self = static_cast<RedisBroker*>(data);
  self->drop_connections();
  self->connect();
}

void RedisBroker::publish(const Message& m, PublishDone done) {
  if (!up_) {
    if (done) done(PublishResult{false, 0, 0});
    return;
  }
  auto* p =
      new Pending{this,   std::move(done),        m.stamp_ns, monotonic_ns(), m.sender, m.echo,
                  m.kind, std::string(m.channel), {}};
  encode(m.kind, node_id_, m.payload, &p->body);
  if (m.history_size > 0) {
    p->history_size = m.history_size;
    p->history_ttl_s = m.history_ttl_s;
    return send_publish(p, !script_sha_.empty());
  }
  const std::string key = key_of(m.channel);
  if (command(pub_, &RedisBroker::on_published, p, {"PUBLISH", key, p->body}) != REDIS_OK) {
    std::unique_ptr<Pending> gone(p);
    if (gone->done) gone->done(PublishResult{false, 0, 0});
  }
}

// A message on a channel with history: kPublishScript, by its sha once loaded.
void RedisBroker::send_publish(Pending* p, bool by_sha) noexcept {
  const std::string meta = meta_key(p->channel), stream = stream_key(p->channel);
  const std::string key = key_of(p->channel), epoch = new_epoch();
  const std::string size = std::to_string(p->history_size);
  const std::string ttl = std::to_string(p->history_ttl_s);
  const int rc = command(pub_, &RedisBroker::on_published, p,
                         {by_sha ? "EVALSHA" : "EVAL", by_sha ? script_sha_ : kPublishScript, "3",
                          meta, stream, key, p->body, size, ttl, epoch});
  if (rc != REDIS_OK) {
    std::unique_ptr<Pending> gone(p);
    if (gone->done) gone->done(PublishResult{false, 0, 0});
  }
}

// Redis took the message (or the connection died first: reply is null). Local subscribers
// get it now, in PUBLISH order, so per-publisher order holds on this node too.
void RedisBroker::on_published(redisAsyncContext* /*ac*/, void* reply, void* data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  RedisBroker* self = p->self;
  if (self->closing_) return;
  auto* r = static_cast<redisReply*>(reply);
  // The script left Redis' cache (SCRIPT FLUSH, a restart between two turns): sent again
  // as EVAL, which caches it again.
  if (r && r->type == REDIS_REPLY_ERROR && p->history_size && !p->retried &&
      str_of(r).starts_with("NOSCRIPT") && self->pub_) {
    p->retried = true;
    return self->send_publish(p.release(), false);
  }
  const bool with_position = p->history_size && r && r->type == REDIS_REPLY_ARRAY &&
                             r->elements == 2 && r->element[1]->type == REDIS_REPLY_INTEGER;
  if (!r || (r->type != REDIS_REPLY_INTEGER && !with_position)) {
    if (r && r->type == REDIS_REPLY_ERROR)
      spdlog::warn("broker: redis refused a publish: {}", str_of(r));
    if (p->done) p->done(PublishResult{false, 0, 0});
    return;
  }
  ++self->stats_.broker_messages_out;
  self->stats_.observe_broker_publish(double(monotonic_ns() - p->sent_ns) / 1e9);
  Message m =
      make_message(p->channel, p->kind,
                   std::span(reinterpret_cast<const std::byte*>(p->body.data()) + kHeaderBytes,
                             p->body.size() - kHeaderBytes),
                   p->sender, p->echo);
  m.stamp_ns = p->stamp_ns;
  size_t delivered = 0;
  if (with_position) {
    m.epoch = parse_epoch(str_of(r->element[0]));
    m.offset = uint64_t(r->element[1]->integer);
    m.history_size = p->history_size;
    m.history_ttl_s = p->history_ttl_s;
    delivered = self->ingest(m);
  } else {
    delivered = self->local_.fan_out(m);
  }
  if (p->done) p->done(PublishResult{true, delivered, m.offset});
}

void RedisBroker::send_subscribe(std::string_view verb, const std::string* first,
                                 size_t n) noexcept {
  std::vector<const char*> argv{verb.data()};
  std::vector<size_t> lens{verb.size()};
  for (size_t i = 0; i < n; ++i) {
    argv.push_back(first[i].data());
    lens.push_back(first[i].size());
  }
  redisAsyncCommandArgv(sub_, &RedisBroker::on_sub_reply, this, int(argv.size()), argv.data(),
                        lens.data());
}

void RedisBroker::subscribe_all() noexcept {
  // First the bare prefix (no channel has an empty name): the connection's subscription
  // count never falls to 0, which hiredis 0.14 takes for "left subscribe mode" even with
  // SUBSCRIBEs still in flight, and then aborts on their confirmations.
  std::vector<std::string> keys{config_.prefix};
  keys.reserve(std::min(wanted_.size() + 1, kKeysPerSubscribe));
  for (const std::string& ch : wanted_) {
    keys.push_back(key_of(ch));
    if (keys.size() == kKeysPerSubscribe) {
      send_subscribe("SUBSCRIBE", keys.data(), keys.size());
      keys.clear();
    }
  }
  if (!keys.empty()) send_subscribe("SUBSCRIBE", keys.data(), keys.size());
  if (patterns_wanted_) send_subscribe("PSUBSCRIBE", &all_keys_, 1);
}

void RedisBroker::subscribe(std::string_view channel) {
  // The cache follows the channel from its first subscriber's position() read (a stale
  // copy is reloaded then), not from here.
  auto [it, added] = wanted_.emplace(channel);
  if (!added || !sub_ready_) return;
  const std::string key = key_of(channel);
  // hiredis forgets a channel's callback on an UNSUBSCRIBE's confirmation: subscribe again
  // after it (on_sub_event), never before.
  if (unsubbing_.count(key)) return;
  send_subscribe("SUBSCRIBE", &key, 1);
}

void RedisBroker::unsubscribe(std::string_view channel) {
  cache_.set_interest(channel, false, history_now_ms());
  if (wanted_.erase(std::string(channel)) == 0 || !sub_ready_) return;
  const std::string key = key_of(channel);
  if (!unsubbing_.insert(key).second) return;  // already leaving
  send_subscribe("UNSUBSCRIBE", &key, 1);
}

void RedisBroker::patterns(bool wanted) {
  if (wanted == patterns_wanted_) return;
  patterns_wanted_ = wanted;
  if (!sub_ready_) return;
  if (punsubbing_) return;  // its confirmation subscribes again if wanted
  if (!wanted) {
    punsubbing_ = true;
    send_subscribe("PUNSUBSCRIBE", &all_keys_, 1);
  } else {
    send_subscribe("PSUBSCRIBE", &all_keys_, 1);
  }
}

void RedisBroker::on_sub_reply(redisAsyncContext* /*ac*/, void* reply, void* data) {
  auto* self = static_cast<RedisBroker*>(data);
  auto* r = static_cast<redisReply*>(reply);
  if (!r || self->closing_ || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  self->on_sub_event(r);
}

// While PSUBSCRIBE prefix* is confirmed every message also comes as a pmessage: only
// those are delivered then (Redis sends both for one PUBLISH, in reply order, so each
// message is delivered exactly once across the switch).
void RedisBroker::on_sub_event(redisReply* r) noexcept {
  const std::string_view type = str_of(r->element[0]);
  if (type == "subscribe") {
    // From now on Redis sends this node the channel: what was published on a channel with
    // history since this node last delivered (a new subscription, a reconnect) is read from
    // its stream, so nothing falls between.
    const std::string_view key = str_of(r->element[1]);
    if (key.size() > config_.prefix.size() && key.starts_with(config_.prefix))
      catch_up(key.substr(config_.prefix.size()), nullptr);
  } else if (type == "message") {
    if (!psub_active_) deliver(str_of(r->element[1]), str_of(r->element[2]));
  } else if (type == "pmessage") {
    if (psub_active_ && r->elements >= 4) deliver(str_of(r->element[2]), str_of(r->element[3]));
  } else if (type == "unsubscribe") {
    const std::string key(str_of(r->element[1]));
    if (unsubbing_.erase(key) == 0) return;
    if (key.size() >= config_.prefix.size() && wanted_.count(key.substr(config_.prefix.size())))
      send_subscribe("SUBSCRIBE", &key, 1);
  } else if (type == "psubscribe") {
    psub_active_ = true;
  } else if (type == "punsubscribe") {
    psub_active_ = false;
    const bool was_leaving = punsubbing_;
    punsubbing_ = false;
    if (was_leaving && patterns_wanted_) send_subscribe("PSUBSCRIBE", &all_keys_, 1);
  }
}

void RedisBroker::deliver(std::string_view key, std::string_view bytes) noexcept {
  if (!key.starts_with(config_.prefix) || key.size() == config_.prefix.size()) return;
  if (!bytes.empty() && bytes[0] == 'p')
    return presence_event(key.substr(config_.prefix.size()), bytes);
  const std::optional<Positioned> pos = decode_position(bytes);
  const std::optional<Decoded> d = decode(pos ? pos->rest : bytes);
  if (!d) {
    spdlog::debug("broker: ignored a message on {} that no wsrelay published", key);
    return;
  }
  if (d->node == node_id_) return;  // ours: fanned out when Redis replied to the PUBLISH
  ++stats_.broker_messages_in;
  Message m = make_message(key.substr(config_.prefix.size()), d->kind, d->payload, nullptr, true);
  if (pos) {
    m.epoch = pos->epoch;
    m.offset = pos->offset;
    ingest(m);
  } else {
    local_.fan_out(m);
  }
}

}  // namespace relay::daemon::redis
