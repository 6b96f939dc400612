// SPDX-License-Identifier: MIT
// HistoryStore: the last messages of each channel that keeps history (README "History and
// recovery"), for the in-memory broker. One stream per channel: a ring (deque) of stored
// messages with consecutive offsets, the channel's epoch and its top offset. Bounds:
// the channel's history_size and history_ttl, and one global byte bound over every stored
// payload: over it, the oldest messages of the stream holding the most bytes go first (an
// indexed max-heap on stream bytes finds it in O(1), updates in O(log streams)).
// The epoch changes only when a stream record is forgotten: at a restart, or when it has
// had no message, no local subscriber and no use for kForgetAfterMs (so a client that
// subscribed to a quiet channel and dropped can still recover what came meanwhile). A
// stream whose every message was evicted keeps its epoch and top offset: positions in it
// then answer offset_too_old.
// One reactor thread owns it; nothing here locks or does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "wire.h"

namespace relay::daemon {

struct StoredMessage {
  uint64_t offset = 0;
  int64_t time_ms = 0;  // when it was stored (history_ttl)
  wire::PayloadKind kind = wire::PayloadKind::kBinary;
  std::string payload;
};

// Where a channel's stream stands: its epoch and the last offset published (0 = none).
struct StreamPosition {
  uint64_t epoch = 0;
  uint64_t offset = 0;
};

// Why a read from a position could not be answered.
enum class HistoryStatus : uint8_t {
  kOk,
  kEpochChanged,  // the stream the position belongs to is gone (restart, dropped)
  kOffsetTooOld,  // messages after the position were evicted (size, ttl, byte bound)
  kNoHistory,     // the channel keeps no history
};
const char* history_status_name(HistoryStatus s) noexcept;  // "epoch_changed", ...

// An epoch as clients see it: 8 lowercase hex digits.
std::string epoch_text(uint64_t epoch);

// The store's clock: Message::stamp_ns in milliseconds.
inline int64_t history_now_ms() noexcept { return monotonic_ns() / 1'000'000; }

class HistoryStore {
 public:
  static constexpr int64_t kForgetAfterMs = 10 * 60 * 1000;

  // max_bytes: the global bound on stored payload bytes (0 = none).
  explicit HistoryStore(uint64_t max_bytes);
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  void set_max_bytes(uint64_t max_bytes) noexcept;  // a reload; applied at the next append

  // Stores a message on `channel` (size > 0) and returns its position (offset, epoch).
  StreamPosition append(std::string_view channel, uint32_t size, uint32_t ttl_s,
                        wire::PayloadKind kind, std::span<const std::byte> payload, int64_t now_ms);
  // The stream's position, creating an empty stream when there is none (a subscriber must
  // get an epoch that the next publish keeps). `subscriber`: the caller is a local
  // subscriber (the stream keeps its epoch until set_interest(channel, false)).
  StreamPosition position(std::string_view channel, bool subscriber);
  // The messages after `from` (offsets from.offset+1 .. top), oldest first, at most `limit`
  // of them (the oldest ones: the caller asks again from the last one).
  HistoryStatus since(std::string_view channel, StreamPosition from, size_t limit, int64_t now_ms,
                      std::vector<const StoredMessage*>* out);
  // The last `n` messages still stored, oldest first.
  void last(std::string_view channel, size_t n, int64_t now_ms,
            std::vector<const StoredMessage*>* out);
  // Local interest (the broker's subscribe/unsubscribe): a stream with subscribers is
  // never forgotten.
  void set_interest(std::string_view channel, bool interested, int64_t now_ms);
  // Drops messages older than their stream's ttl in every stream, and forgets streams left
  // empty and unused for kForgetAfterMs (a periodic sweep, so a quiet channel gives its
  // memory back too).
  void expire(int64_t now_ms);

  // A mirror of streams kept elsewhere (the Redis broker, README "Several nodes (Redis)"):
  // `loader` is called when position(), since() or last() meet a channel not cached or
  // followed by no local subscriber (stale), and may restore() it first; put() stores a message at
  // the offset the owner assigned. Unset (the in-memory broker) nothing changes.
  using Loader = std::function<void(std::string_view channel)>;
  void set_loader(Loader loader) { loader_ = std::move(loader); }
  // Replaces the channel's cached stream: its position, age bound and messages (offsets
  // consecutive, ending at top.offset; older ones may be missing).
  void restore(std::string_view channel, StreamPosition top, uint32_t ttl_s,
               std::vector<StoredMessage> messages);
  // Stores a message whose position was assigned elsewhere; it must be top + 1 in the same
  // epoch, otherwise the cached stream restarts from it (the caller saw to the gap).
  void put(std::string_view channel, StreamPosition pos, uint32_t size, uint32_t ttl_s,
           wire::PayloadKind kind, std::span<const std::byte> payload, int64_t now_ms);
  // The position of a cached stream that a local subscriber follows (never loads).
  bool cached(std::string_view channel, StreamPosition* out) const noexcept;

  size_t messages() const noexcept { return messages_; }
  uint64_t bytes() const noexcept { return bytes_; }
  size_t streams() const noexcept { return streams_.size(); }

 private:
  struct Stream;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Map = std::unordered_map<std::string, std::unique_ptr<Stream>, NameHash, std::equal_to<>>;

  Stream* find(std::string_view channel) noexcept;
  Stream* find_or_load(std::string_view channel);
  void clear(Stream& s) noexcept;
  Stream& find_or_create(std::string_view channel);  // loads first (a mirror)
  Stream& create(std::string_view channel);
  void drop_front(Stream& s) noexcept;
  void expire(Stream& s, int64_t now_ms) noexcept;
  void evict_over_bound() noexcept;
  uint64_t new_epoch() noexcept;
  // the indexed max-heap on Stream::bytes
  void heap_fix(Stream& s) noexcept;
  void heap_swap(size_t a, size_t b) noexcept;
  void heap_remove(Stream& s) noexcept;

  Map streams_;
  std::vector<Stream*> heap_;  // streams with bytes, largest first
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  size_t messages_ = 0;
  std::mt19937_64 rng_;
  Loader loader_;
};

}  // namespace relay::daemon
