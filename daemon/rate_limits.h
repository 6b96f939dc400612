// SPDX-License-Identifier: MIT
// Publish rate limits (README "Caps and rate limits"): token buckets per connection on /ws
// and raw channels, per client IP on HTTP publish. The top-level rate_limit is slot 0; each
// channels[] entry with its own rate_limit is one more slot, so a /ws connection publishing
// on channels of different entries has one bucket pair per entry it uses. A check is O(1)
// and allocates nothing, except the first time after a (re)configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/token_bucket.h"
#include "config.h"

namespace relay::daemon {

// Server-wide, from the config: which slot each channel entry uses, and each slot's limits.
class RateLimitPlan {
 public:
  void configure(const Config& c);
  // The slot of the options Config::options_for returned for a channel.
  uint32_t slot_for(const Config& c, const ChannelOptions& opts) const noexcept;
  const RateLimitConfig& slot_config(uint32_t slot) const noexcept { return slots_[slot]; }
  size_t slots() const noexcept { return slots_.size(); }
  // The time an untouched bucket pair of the slot takes to refill completely.
  int64_t refill_ms(uint32_t slot) const noexcept { return refill_ms_[slot]; }
  bool any() const noexcept { return any_; }                    // some slot limits something
  uint64_t generation() const noexcept { return generation_; }  // bumped by configure()

 private:
  std::vector<uint32_t> channel_slot_;  // per Config::channels entry (0 = no own limit)
  std::vector<RateLimitConfig> slots_{RateLimitConfig{}};
  std::vector<int64_t> refill_ms_{0};
  uint64_t generation_ = 0;
  bool any_ = false;
};

auth::RateLimiter make_limiter(const RateLimitConfig& r, int64_t now_ms) noexcept;

// One connection's buckets (/ws, raw).
class ConnectionRateLimits {
 public:
  // 0 = allowed (and charged); else the ms until it would be.
  int64_t check(const RateLimitPlan& plan, uint32_t slot, uint64_t bytes, int64_t now_ms);

 private:
  std::vector<auth::RateLimiter> limiters_;  // one per plan slot, built on first use
  uint64_t generation_ = 0;
};

// HTTP publishers, by client IP and slot. The map is bounded: when full, buckets that have
// refilled completely (indistinguishable from new ones) are dropped, at most once a second;
// if it is still full, the newcomers share one bucket.
class HttpRateLimits {
 public:
  static constexpr size_t kMaxEntries = 100'000;
  int64_t check(const RateLimitPlan& plan, uint32_t slot, std::string_view ip, uint64_t bytes,
                int64_t now_ms);
  size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    auth::RateLimiter limiter;
    int64_t last_ms;
    uint64_t generation;
    uint32_t slot;
  };
  void sweep(const RateLimitPlan& plan, int64_t now_ms);
  std::unordered_map<std::string, Entry> entries_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace relay::daemon
