// SPDX-License-Identifier: MIT
#include "history_store.h"

#include <cstdio>

namespace relay::daemon {

struct HistoryStore::Stream {
  std::string name;
  std::deque<StoredMessage> messages;  // consecutive offsets, oldest first
  uint64_t epoch = 0;
  uint64_t top = 0;  // the last offset assigned
  uint64_t bytes = 0;
  uint32_t ttl_s = 0;   // as of the last append
  int64_t used_ms = 0;  // the last append, position() or unsubscribe
  size_t heap_index = 0;
  bool interested = false;
};

const char* history_status_name(HistoryStatus s) noexcept {
  switch (s) {
    case HistoryStatus::kOk:
      return "ok";
    case HistoryStatus::kEpochChanged:
      return "epoch_changed";
    case HistoryStatus::kOffsetTooOld:
      return "offset_too_old";
    case HistoryStatus::kNoHistory:
      return "no_history";
  }
  return "no_history";
}

std::string epoch_text(uint64_t epoch) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(epoch));
  return buf;
}

HistoryStore::HistoryStore(uint64_t max_bytes)
    : max_bytes_(max_bytes), rng_(std::random_device{}()) {}
HistoryStore::~HistoryStore() = default;

void HistoryStore::set_max_bytes(uint64_t max_bytes) noexcept { max_bytes_ = max_bytes; }

uint64_t HistoryStore::new_epoch() noexcept {
  // 32 random bits, never 0 (0 is "no epoch" in Message).
  uint64_t e = 0;
  while (e == 0) e = rng_() & 0xffffffffu;
  return e;
}

HistoryStore::Stream* HistoryStore::find(std::string_view channel) noexcept {
  auto it = streams_.find(channel);
  return it == streams_.end() ? nullptr : it->second.get();
}

HistoryStore::Stream* HistoryStore::find_or_load(std::string_view channel) {
  Stream* s = find(channel);
  // A mirror reloads a stream no local subscriber follows: nothing kept it in step.
  if (loader_ && (!s || !s->interested)) {
    loader_(channel);
    s = find(channel);
  }
  return s;
}

HistoryStore::Stream& HistoryStore::find_or_create(std::string_view channel) {
  if (Stream* s = find_or_load(channel)) return *s;
  return create(channel);
}

HistoryStore::Stream& HistoryStore::create(std::string_view channel) {
  auto owned = std::make_unique<Stream>();
  Stream& s = *owned;
  s.name = std::string(channel);
  s.epoch = new_epoch();
  s.heap_index = heap_.size();
  heap_.push_back(&s);
  streams_.emplace(s.name, std::move(owned));
  heap_fix(s);
  return s;
}

StreamPosition HistoryStore::append(std::string_view channel, uint32_t size, uint32_t ttl_s,
                                    wire::PayloadKind kind, std::span<const std::byte> payload,
                                    int64_t now_ms) {
  Stream& s = find_or_create(channel);
  s.ttl_s = ttl_s;
  s.used_ms = now_ms;
  StoredMessage m;
  m.offset = ++s.top;
  m.time_ms = now_ms;
  m.kind = kind;
  m.payload.assign(reinterpret_cast<const char*>(payload.data()), payload.size());
  s.bytes += payload.size();
  bytes_ += payload.size();
  ++messages_;
  s.messages.push_back(std::move(m));
  while (s.messages.size() > size) drop_front(s);
  expire(s, now_ms);
  heap_fix(s);
  evict_over_bound();
  return {s.epoch, s.top};
}

StreamPosition HistoryStore::position(std::string_view channel, bool subscriber) {
  Stream& s = find_or_create(channel);
  if (subscriber) s.interested = true;
  s.used_ms = history_now_ms();
  return {s.epoch, s.top};
}

HistoryStatus HistoryStore::since(std::string_view channel, StreamPosition from, size_t limit,
                                  int64_t now_ms, std::vector<const StoredMessage*>* out) {
  Stream* s = find_or_load(channel);
  if (!s || s->epoch != from.epoch) return HistoryStatus::kEpochChanged;
  expire(*s, now_ms);
  if (from.offset > s->top) return HistoryStatus::kEpochChanged;  // not a position of ours
  if (from.offset == s->top) return HistoryStatus::kOk;
  if (s->messages.empty() || s->messages.front().offset > from.offset + 1)
    return HistoryStatus::kOffsetTooOld;
  size_t first = from.offset + 1 - s->messages.front().offset;
  for (size_t i = first; i < s->messages.size() && out->size() < limit; ++i)
    out->push_back(&s->messages[i]);
  return HistoryStatus::kOk;
}

void HistoryStore::last(std::string_view channel, size_t n, int64_t now_ms,
                        std::vector<const StoredMessage*>* out) {
  Stream* s = find_or_load(channel);
  if (!s) return;
  expire(*s, now_ms);
  size_t first = s->messages.size() > n ? s->messages.size() - n : 0;
  for (size_t i = first; i < s->messages.size(); ++i) out->push_back(&s->messages[i]);
}

void HistoryStore::clear(Stream& s) noexcept {
  while (!s.messages.empty()) drop_front(s);
  heap_fix(s);
}

void HistoryStore::restore(std::string_view channel, StreamPosition top, uint32_t ttl_s,
                           std::vector<StoredMessage> messages) {
  Stream* found = find(channel);
  Stream& s = found ? *found : create(channel);
  clear(s);
  s.epoch = top.epoch;
  s.top = top.offset;
  s.ttl_s = ttl_s;
  s.used_ms = history_now_ms();
  for (StoredMessage& m : messages) {
    s.bytes += m.payload.size();
    bytes_ += m.payload.size();
    ++messages_;
    s.messages.push_back(std::move(m));
  }
  heap_fix(s);
  evict_over_bound();
}

void HistoryStore::put(std::string_view channel, StreamPosition pos, uint32_t size, uint32_t ttl_s,
                       wire::PayloadKind kind, std::span<const std::byte> payload, int64_t now_ms) {
  Stream* found = find(channel);
  Stream& s = found ? *found : create(channel);
  if (s.epoch != pos.epoch || s.top + 1 != pos.offset) {
    clear(s);
    s.epoch = pos.epoch;
  }
  s.top = pos.offset - 1;
  append(channel, size, ttl_s, kind, payload, now_ms);
}

bool HistoryStore::cached(std::string_view channel, StreamPosition* out) const noexcept {
  auto it = streams_.find(channel);
  if (it == streams_.end() || !it->second->interested) return false;
  *out = {it->second->epoch, it->second->top};
  return true;
}

void HistoryStore::set_interest(std::string_view channel, bool interested, int64_t now_ms) {
  if (Stream* s = find(channel)) {
    s->interested = interested;
    s->used_ms = now_ms;
  }
}

void HistoryStore::expire(int64_t now_ms) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    Stream& s = *it->second;
    expire(s, now_ms);
    if (s.messages.empty() && !s.interested && now_ms - s.used_ms >= kForgetAfterMs) {
      heap_remove(s);
      it = streams_.erase(it);  // frees s
    } else {
      ++it;
    }
  }
}

void HistoryStore::drop_front(Stream& s) noexcept {
  const size_t n = s.messages.front().payload.size();
  s.bytes -= n;
  bytes_ -= n;
  --messages_;
  s.messages.pop_front();
}

void HistoryStore::expire(Stream& s, int64_t now_ms) noexcept {
  if (s.ttl_s == 0) return;
  const int64_t oldest_kept = now_ms - int64_t(s.ttl_s) * 1000;
  bool dropped = false;
  while (!s.messages.empty() && s.messages.front().time_ms <= oldest_kept) {
    drop_front(s);
    dropped = true;
  }
  if (dropped) heap_fix(s);
}

void HistoryStore::evict_over_bound() noexcept {
  if (max_bytes_ == 0) return;
  while (bytes_ > max_bytes_ && !heap_.empty() && heap_.front()->bytes > 0) {
    Stream& biggest = *heap_.front();
    drop_front(biggest);
    heap_fix(biggest);
  }
}

void HistoryStore::heap_swap(size_t a, size_t b) noexcept {
  std::swap(heap_[a], heap_[b]);
  heap_[a]->heap_index = a;
  heap_[b]->heap_index = b;
}

void HistoryStore::heap_fix(Stream& s) noexcept {
  size_t i = s.heap_index;
  while (i > 0 && heap_[(i - 1) / 2]->bytes < heap_[i]->bytes) {
    heap_swap(i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t largest = i;
    const size_t l = 2 * i + 1, r = 2 * i + 2;
    if (l < heap_.size() && heap_[l]->bytes > heap_[largest]->bytes) largest = l;
    if (r < heap_.size() && heap_[r]->bytes > heap_[largest]->bytes) largest = r;
    if (largest == i) return;
    heap_swap(i, largest);
    i = largest;
  }
}

void HistoryStore::heap_remove(Stream& s) noexcept {
  const size_t i = s.heap_index;
  const size_t last = heap_.size() - 1;
  if (i != last) heap_swap(i, last);
  heap_.pop_back();
  if (i < heap_.size()) heap_fix(*heap_[i]);
}

}  // namespace relay::daemon
