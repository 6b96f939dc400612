// SPDX-License-Identifier: MIT
// Histogram: a fixed-size log-linear latency histogram (HdrHistogram's layout with 32
// sub-buckets per power of two, so every value is kept within ~3%). Recording is an
// array increment: no allocation, no floating point, fit for every delivery.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace relay::bench {

class Histogram {
 public:
  void record(int64_t value_ns) noexcept {
    const uint64_t v = value_ns > 0 ? uint64_t(value_ns) : 0;
    ++counts_[index_of(v)];
    ++count_;
    max_ = std::max(max_, v);
    sum_ += v;
  }
  void reset() noexcept { *this = Histogram(); }
  void merge(const Histogram& o) noexcept {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? double(sum_) / double(count_) : 0.0; }

  // The value at quantile q (0..1): the middle of the bucket holding it, never above
  // the largest value recorded. 0 when empty.
  uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    uint64_t rank = uint64_t(q * double(count_));
    if (rank >= count_) rank = count_ - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return std::min(middle_of(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 5;  // 32 sub-buckets per power of two
  static constexpr uint64_t kSub = 1u << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static size_t index_of(uint64_t v) noexcept {
    if (v < kSub) return size_t(v);
    const int e = 63 - std::countl_zero(v);         // >= kSubBits
    const uint64_t mantissa = v >> (e - kSubBits);  // kSub .. 2*kSub-1
    return size_t(e - kSubBits + 1) * kSub + size_t(mantissa - kSub);
  }
  static uint64_t middle_of(size_t i) noexcept {
    if (i < kSub) return i;
    const int e = int(i / kSub) + kSubBits - 1;
    const uint64_t mantissa = kSub + i % kSub;
    const uint64_t low = mantissa << (e - kSubBits);
    const uint64_t width = uint64_t(1) << (e - kSubBits);
    return low + width / 2;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace relay::bench
