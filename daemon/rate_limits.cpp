// SPDX-License-Identifier: MIT
#include "rate_limits.h"

#include <algorithm>

namespace relay::daemon {
namespace {

// How long an empty bucket of `rate` per second takes to hold `burst` (0 = the rate).
int64_t fill_ms(uint32_t rate, uint32_t burst) {
  if (rate == 0) return 0;
  const uint64_t b = burst ? burst : rate;
  return int64_t((b * 1000 + rate - 1) / rate);
}

}  // namespace

auth::RateLimiter make_limiter(const RateLimitConfig& r, int64_t now_ms) noexcept {
  return auth::RateLimiter(r.messages_per_s, r.message_burst, r.bytes_per_s, r.byte_burst, now_ms);
}

void RateLimitPlan::configure(const Config& c) {
  slots_.assign(1, c.rate_limit);
  channel_slot_.assign(c.channels.size(), 0);
  for (size_t i = 0; i < c.channels.size(); ++i) {
    if (!c.channels[i].rate_limit) continue;
    channel_slot_[i] = uint32_t(slots_.size());
    slots_.push_back(*c.channels[i].rate_limit);
  }
  refill_ms_.clear();
  any_ = false;
  for (const RateLimitConfig& r : slots_) {
    refill_ms_.push_back(
        std::max(fill_ms(r.messages_per_s, r.message_burst), fill_ms(r.bytes_per_s, r.byte_burst)));
    any_ = any_ || r.enabled();
  }
  ++generation_;
}

uint32_t RateLimitPlan::slot_for(const Config& c, const ChannelOptions& opts) const noexcept {
  // Only entries of c.channels have a rate_limit (the defaults options_for returns do not).
  if (!opts.rate_limit || c.channels.empty()) return 0;
  const size_t i = size_t(&opts - c.channels.data());
  return i < channel_slot_.size() ? channel_slot_[i] : 0;
}

int64_t ConnectionRateLimits::check(const RateLimitPlan& plan, uint32_t slot, uint64_t bytes,
                                    int64_t now_ms) {
  if (!plan.any()) return 0;
  if (generation_ != plan.generation()) {  // first use, or the config was reloaded
    limiters_.clear();
    limiters_.reserve(plan.slots());
    for (uint32_t s = 0; s < plan.slots(); ++s)
      limiters_.push_back(make_limiter(plan.slot_config(s), now_ms));
    generation_ = plan.generation();
  }
  return limiters_[slot].check(bytes, now_ms);
}

int64_t HttpRateLimits::check(const RateLimitPlan& plan, uint32_t slot, std::string_view ip,
                              uint64_t bytes, int64_t now_ms) {
  if (!plan.slot_config(slot).enabled()) return 0;
  std::string key(ip);
  key.append("|").append(std::to_string(slot));
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxEntries) sweep(plan, now_ms);
    if (entries_.size() >= kMaxEntries) key = "overflow|" + std::to_string(slot);
    it = entries_
             .try_emplace(std::move(key), Entry{make_limiter(plan.slot_config(slot), now_ms),
                                                now_ms, plan.generation(), slot})
             .first;
  } else if (it->second.generation != plan.generation()) {
    it->second.limiter = make_limiter(plan.slot_config(slot), now_ms);
    it->second.generation = plan.generation();
  }
  it->second.last_ms = now_ms;
  return it->second.limiter.check(bytes, now_ms);
}

void HttpRateLimits::sweep(const RateLimitPlan& plan, int64_t now_ms) {
  if (last_sweep_ms_ != 0 && now_ms - last_sweep_ms_ < 1000) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(entries_, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.generation != plan.generation() || e.slot >= plan.slots() ||
           now_ms - e.last_ms >= plan.refill_ms(e.slot);
  });
}

}  // namespace relay::daemon
