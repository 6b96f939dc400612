// SPDX-License-Identifier: MIT
// Token-bucket rate limits per connection: O(1), no allocation, integer arithmetic on the
// reactor's millisecond clock. Tokens are kept in thousandths so that a rate of r per
// second refills exactly r thousandths per millisecond.
#pragma once

#include <cstdint>

namespace relay::auth {

class TokenBucket {
 public:
  // rate_per_s = 0 disables the bucket (everything allowed). burst = 0 means burst = rate.
  // The bucket starts full.
  TokenBucket(uint32_t rate_per_s, uint32_t burst, int64_t now_ms) noexcept;

  // Takes `cost` tokens and returns 0, or takes nothing and returns the ms to wait until
  // it would succeed (>= 1). A cost above the burst is allowed when the bucket is full and
  // leaves it in debt, so the long-run rate still holds.
  int64_t take(uint64_t cost, int64_t now_ms) noexcept;
  // take() without taking: 0 when `cost` is available now, else the ms to wait.
  int64_t wait_for(uint64_t cost, int64_t now_ms) noexcept;

  bool enabled() const noexcept { return rate_ != 0; }

 private:
  void refill(int64_t now_ms) noexcept;

  int64_t rate_;      // tokens per second = thousandths per ms
  int64_t capacity_;  // burst in thousandths
  int64_t level_;     // thousandths; negative = debt
  int64_t last_ms_;
};

// A connection's two limits: messages per second and bytes per second, both or nothing.
class RateLimiter {
 public:
  RateLimiter(uint32_t messages_per_s, uint32_t message_burst, uint32_t bytes_per_s,
              uint32_t byte_burst, int64_t now_ms) noexcept;
  // 0 = allowed (both buckets charged); otherwise the ms until it would be (for Retry-After).
  int64_t check(uint64_t bytes, int64_t now_ms) noexcept;

 private:
  TokenBucket messages_;
  TokenBucket bytes_;
};

}  // namespace relay::auth
