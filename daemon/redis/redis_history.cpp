// SPDX-License-Identifier: MIT
// History across nodes (README "Several nodes (Redis)"): Redis assigns each message of a
// channel with history its offset and keeps the epoch and the stream (kPublishScript); this
// node's HistoryStore is a cache of those streams that the session code reads as it reads
// the in-memory broker's. Invariant: for a cached channel, this node's subscribers have
// been delivered every offset up to the cache's top, and no other. ingest() keeps it: an
// offset already had is dropped, the next one is stored and delivered, one further on
// (a gap: a message still in flight on the other connection, or published before this
// node's SUBSCRIBE took effect, or while Redis was away) is filled from the stream first.
// What the stream no longer holds is reported to the subscribers (4009), never skipped.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>

#include "redis/redis_broker.h"
#include "redis/redis_message.h"
#include "redis/redis_scripts.h"

namespace relay::daemon::redis {
namespace {

std::string_view text_of(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
               r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

uint64_t number_of(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_INTEGER) return uint64_t(r->integer);
  const std::string_view s = text_of(r);
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::string RedisBroker::new_epoch() {
  uint64_t e = 0;
  while (e == 0) e = rng_() & 0xffffffffu;  // 0 is "no epoch"
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(e));
  return buf;
}

std::string RedisBroker::meta_key(std::string_view channel) const {
  return config_.prefix + "h:" + std::string(channel);
}

std::string RedisBroker::stream_key(std::string_view channel) const {
  return config_.prefix + "s:" + std::string(channel);
}

bool RedisBroker::read(std::string_view channel, uint64_t first, Snapshot* out) {
  if (!up_) return false;
  const std::string meta = meta_key(channel), stream = stream_key(channel);
  ReplyPtr r =
      sync_.command({"EVAL", kReadScript, "2", meta, stream, new_epoch(), std::to_string(first)});
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
      r->element[4]->type != REDIS_REPLY_ARRAY) {
    if (r && r->type == REDIS_REPLY_ERROR)
      spdlog::warn("broker: redis history read failed: {}", text_of(r.get()));
    return false;
  }
  out->top = {parse_epoch(text_of(r->element[0])), number_of(r->element[1])};
  // Entry times are Redis' clock; the cache ages them on ours.
  const int64_t redis_ms =
      int64_t(number_of(r->element[2])) * 1000 + int64_t(number_of(r->element[3])) / 1000;
  const int64_t now_ms = history_now_ms();
  const redisReply* entries = r->element[4];
  out->entries.clear();
  out->entries.reserve(entries->elements);
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    const redisReply* fields = e->element[1];
    StoredMessage m;
    m.offset = number_of(e->element[0]);  // "<offset>-1": from_chars stops at '-'
    std::optional<Decoded> body;
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
      const std::string_view name = text_of(fields->element[f]);
      if (name == "t") m.time_ms = now_ms - (redis_ms - int64_t(number_of(fields->element[f + 1])));
      if (name == "m") body = decode(text_of(fields->element[f + 1]));
    }
    if (!body) continue;
    m.kind = body->kind;
    m.payload.assign(reinterpret_cast<const char*>(body->payload.data()), body->payload.size());
    out->entries.push_back(std::move(m));
  }
  return true;
}

// The HistoryStore's loader: a channel read here for the first time (a subscribe, a
// recover, a history op) gets Redis' epoch, top and stream. While Redis is down it stays
// uncached and the store makes a local epoch: the subscribers are told when it turns out
// to differ from Redis' one (epoch_changed).
void RedisBroker::load(std::string_view channel) {
  const ChannelOptions& o = options_.options_for(channel);
  Snapshot s;
  if (o.history_size == 0 || !read(channel, 1, &s)) return;
  cache_.restore(channel, s.top, o.history_ttl, std::move(s.entries));
}

size_t RedisBroker::ingest(const Message& m) noexcept {
  const ChannelOptions& o = options_.options_for(m.channel);
  StreamPosition have;
  // Nobody here has read the channel's position (pattern subscribers only): nothing to
  // keep in step; a reader loads it from Redis.
  if (o.history_size == 0 || !cache_.cached(m.channel, &have)) return local_.fan_out(m);
  if (have.epoch == m.epoch && m.offset <= have.offset) return 0;  // delivered already
  if (have.epoch == m.epoch && m.offset == have.offset + 1) {
    cache_.put(m.channel, {m.epoch, m.offset}, o.history_size, o.history_ttl, m.kind, m.payload,
               history_now_ms());
    return local_.fan_out(m);
  }
  return catch_up(m.channel, &m);
}

// Delivers what the channel's stream holds after the cache's top, in order (the trigger,
// when it is one of them, as itself: its sender and echo). Returns the trigger's deliveries.
size_t RedisBroker::catch_up(std::string_view channel, const Message* trigger) noexcept {
  const ChannelOptions& o = options_.options_for(channel);
  StreamPosition have;
  if (o.history_size == 0 || !cache_.cached(channel, &have)) return 0;
  Snapshot s;
  if (!read(channel, have.offset + 1, &s)) {
    if (!trigger) return 0;  // Redis went away again: the next reconnect catches up
    lose(channel, HistoryStatus::kOffsetTooOld);
    cache_.put(channel, {trigger->epoch, trigger->offset}, o.history_size, o.history_ttl,
               trigger->kind, trigger->payload, history_now_ms());
    return 0;
  }
  if (s.top.epoch != have.epoch) {
    // Redis lost the stream (a restart without persistence, keys deleted): a new one.
    lose(channel, HistoryStatus::kEpochChanged);
    if (read(channel, 1, &s)) cache_.restore(channel, s.top, o.history_ttl, std::move(s.entries));
    return 0;
  }
  if (s.top.offset <= have.offset) return 0;
  if (s.entries.empty() || s.entries.front().offset != have.offset + 1) {
    // Trimmed (history_size, history_ttl) before this node could deliver it.
    lose(channel, HistoryStatus::kOffsetTooOld);
    cache_.restore(channel, s.top, o.history_ttl, std::move(s.entries));
    return 0;
  }
  size_t trigger_delivered = 0;
  for (const StoredMessage& e : s.entries) {
    const auto payload =
        std::span(reinterpret_cast<const std::byte*>(e.payload.data()), e.payload.size());
    cache_.put(channel, {s.top.epoch, e.offset}, o.history_size, o.history_ttl, e.kind, payload,
               history_now_ms());
    if (trigger && trigger->offset == e.offset) {
      trigger_delivered = local_.fan_out(*trigger);
      continue;
    }
    Message m = make_message(channel, e.kind, payload, nullptr, true);
    m.epoch = s.top.epoch;
    m.offset = e.offset;
    local_.fan_out(m);
  }
  return trigger_delivered;
}

void RedisBroker::lose(std::string_view channel, HistoryStatus why) noexcept {
  spdlog::warn(
      "broker: history of {} lost on redis ({}); its subscribers here are closed "
      "with 4009",
      channel, history_status_name(why));
  local_.history_lost(channel, history_status_name(why));
}

}  // namespace relay::daemon::redis
