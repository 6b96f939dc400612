// SPDX-License-Identifier: MIT
// MpscQueue<T>: a bounded queue many threads push into and one thread pops from, without a
// lock: a ring of cells, each with a sequence number telling whose turn it is (Dmitry
// Vyukov's bounded MPMC queue, as in folly's MPMCQueue and the Rust crossbeam ArrayQueue).
// A push claims a slot with one compare-and-swap on the tail; a full ring fails the push
// at once (the caller decides: refuse the publish, or keep the item for later), so memory
// is bounded and nothing waits. FIFO per producer: one thread's pushes pop in push order.
//
//   net::MpscQueue<Item> q(4096);      // capacity rounded up to a power of two
//   if (!q.try_push(std::move(item))) refuse();   // any thread
//   while (auto item = q.try_pop()) handle(*item);  // the owning thread only
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>

namespace relay::net {

template <typename T>
class MpscQueue {
 public:
  explicit MpscQueue(size_t capacity) : mask_(round_up(capacity) - 1) {
    cells_ = std::make_unique<Cell[]>(mask_ + 1);
    for (size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;
  ~MpscQueue() {
    while (try_pop()) {
    }
  }

  // Any thread. False (and `v` untouched) when the ring is full.
  bool try_push(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) {
    size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const size_t seq = c.seq.load(std::memory_order_acquire);
      const intptr_t diff = intptr_t(seq) - intptr_t(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(c.storage)) T(std::move(v));
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the consumer has not freed this cell yet: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // The consumer thread only. Empty when nothing was pushed (or a push is half done).
  std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>) {
    Cell& c = cells_[head_ & mask_];
    const size_t seq = c.seq.load(std::memory_order_acquire);
    if (intptr_t(seq) - intptr_t(head_ + 1) < 0) return std::nullopt;
    T* p = std::launder(reinterpret_cast<T*>(c.storage));
    std::optional<T> out(std::move(*p));
    p->~T();
    c.seq.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    return out;
  }

  size_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<size_t> seq{0};
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static size_t round_up(size_t n) noexcept {
    size_t p = 2;
    while (p < n) p <<= 1;
    return p;
  }

  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> tail_{0};  // producers
  alignas(64) size_t head_ = 0;              // the consumer
};

}  // namespace relay::net
