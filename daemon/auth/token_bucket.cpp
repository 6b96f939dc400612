// SPDX-License-Identifier: MIT
#include "auth/token_bucket.h"

#include <algorithm>

namespace relay::auth {
namespace {

constexpr int64_t kMilli = 1000;
// Costs are clamped so cost * 1000 cannot overflow; no real message comes near this.
constexpr uint64_t kMaxCost = uint64_t{1} << 40;

}  // namespace

TokenBucket::TokenBucket(uint32_t rate_per_s, uint32_t burst, int64_t now_ms) noexcept
    : rate_(rate_per_s),
      capacity_(int64_t{burst == 0 ? rate_per_s : burst} * kMilli),
      level_(capacity_),
      last_ms_(now_ms) {}

void TokenBucket::refill(int64_t now_ms) noexcept {
  if (now_ms <= last_ms_) return;  // the clock is monotonic; never refill backwards
  int64_t elapsed = now_ms - last_ms_;
  last_ms_ = now_ms;
  // Past this point the bucket is full anyway; capping keeps elapsed * rate_ in range.
  int64_t to_full = (capacity_ - level_) / rate_ + 1;
  level_ = elapsed >= to_full ? capacity_ : std::min(capacity_, level_ + elapsed * rate_);
}

int64_t TokenBucket::wait_for(uint64_t cost, int64_t now_ms) noexcept {
  if (rate_ == 0) return 0;
  refill(now_ms);
  int64_t need = static_cast<int64_t>(std::min(cost, kMaxCost)) * kMilli;
  int64_t required = std::min(need, capacity_);  // over-burst costs need a full bucket
  if (level_ >= required) return 0;
  return (required - level_ + rate_ - 1) / rate_;  // ceil(missing / rate) ms
}

int64_t TokenBucket::take(uint64_t cost, int64_t now_ms) noexcept {
  int64_t wait = wait_for(cost, now_ms);
  if (wait == 0 && rate_ != 0) level_ -= static_cast<int64_t>(std::min(cost, kMaxCost)) * kMilli;
  return wait;
}

RateLimiter::RateLimiter(uint32_t messages_per_s, uint32_t message_burst, uint32_t bytes_per_s,
                         uint32_t byte_burst, int64_t now_ms) noexcept
    : messages_(messages_per_s, message_burst, now_ms), bytes_(bytes_per_s, byte_burst, now_ms) {}

int64_t RateLimiter::check(uint64_t bytes, int64_t now_ms) noexcept {
  // Both are asked before either is charged, so a refusal by one charges neither.
  int64_t wait = std::max(messages_.wait_for(1, now_ms), bytes_.wait_for(bytes, now_ms));
  if (wait != 0) return wait;
  messages_.take(1, now_ms);
  bytes_.take(bytes, now_ms);
  return 0;
}

}  // namespace relay::auth
