// SPDX-License-Identifier: MIT
#include "base/out_queue.h"

#include <utility>

namespace relay {

OutQueue::~OutQueue() {
  if (!is_inline()) delete[] ring_;
}

void OutQueue::push(FrameRef f) {
  if (count_ > mask_) grow();
  bytes_ += f.size();
  held_ += held_by(f);
  Entry& e = ring_[(head_ + count_) & mask_];
  e.frame = std::move(f);
  e.offset = 0;
  ++count_;
}

void OutQueue::grow() {
  // From the inline entry straight to 8: a queue that ever holds two frames is a
  // busy one, and small steps would only copy more.
  const uint32_t cap = is_inline() ? 8 : (mask_ + 1) * 2;
  Entry* next = new Entry[cap];
  for (uint32_t i = 0; i < count_; ++i) next[i] = std::move(ring_[(head_ + i) & mask_]);
  if (!is_inline()) delete[] ring_;
  ring_ = next;
  mask_ = cap - 1;
  head_ = 0;
}

void OutQueue::release_ring() noexcept {
  if (is_inline()) return;
  delete[] ring_;
  ring_ = &inline_;
  mask_ = head_ = 0;
}

int OutQueue::gather(iovec* iov, int max) const noexcept {
  int n = 0;
  const uint32_t mask = mask_;
  for (uint32_t i = 0; i < count_ && n < max; ++i) {
    const Entry& e = ring_[(head_ + i) & mask];
    size_t len = e.frame.size() - e.offset;
    if (len == 0) continue;
    iov[n].iov_base = const_cast<std::byte*>(e.frame.data() + e.offset);
    iov[n].iov_len = len;
    ++n;
  }
  return n;
}

void OutQueue::clear() noexcept {
  for (uint32_t i = 0; i < count_; ++i) ring_[(head_ + i) & mask_].frame.reset();
  head_ = count_ = 0;
  bytes_ = held_ = 0;
  if (mask_ >= kRingKept) release_ring();
}

void OutQueue::drop_unstarted() noexcept {
  const uint32_t keep = front_started() ? 1 : 0;
  const uint32_t mask = mask_;
  for (uint32_t i = keep; i < count_; ++i) {
    Entry& e = ring_[(head_ + i) & mask];
    bytes_ -= e.frame.size();
    held_ -= held_by(e.frame);
    e.frame.reset();
  }
  count_ = keep;
  if (count_ == 0 && mask_ >= kRingKept) release_ring();
}

}  // namespace relay
