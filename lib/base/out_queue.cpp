#include "base/out_queue.h"

#include <utility>

namespace relay {

void OutQueue::push(FrameRef f) {
  if (count_ == ring_.size()) grow();
  bytes_ += f.size();
  ring_[(head_ + count_) & (ring_.size() - 1)] = Entry{std::move(f), 0};
  ++count_;
}

void OutQueue::grow() {
  size_t cap = ring_.empty() ? 8 : ring_.size() * 2;
  std::vector<Entry> next(cap);
  for (size_t i = 0; i < count_; ++i) next[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
  ring_ = std::move(next);
  head_ = 0;
}

int OutQueue::gather(iovec* iov, int max) const noexcept {
  int n = 0;
  const size_t mask = ring_.size() - 1;
  for (size_t i = 0; i < count_ && n < max; ++i) {
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
  for (size_t i = 0; i < count_; ++i) ring_[(head_ + i) & (ring_.size() - 1)].frame.reset();
  head_ = count_ = bytes_ = 0;
}

void OutQueue::drop_unstarted() noexcept {
  size_t keep = front_started() ? 1 : 0;
  const size_t mask = ring_.size() - 1;
  for (size_t i = keep; i < count_; ++i) {
    Entry& e = ring_[(head_ + i) & mask];
    bytes_ -= e.frame.size();
    e.frame.reset();
  }
  count_ = keep;
}

}  // namespace relay
