// SPDX-License-Identifier: MIT
// SmallVector<T>: a vector of trivially copyable T that holds its first element inline,
// in the bytes std::vector would spend on its pointers, and moves to the heap from the
// second (growing by doubling, and back inline when cleared or popped down to one).
// A connection subscribed to one channel, and a channel with one subscriber, then cost no
// heap block for the membership records on either side (glibc's smallest chunk is 32
// bytes). The same size as std::vector for T up to 16 bytes; neither copyable nor movable
// (channels and subscribers point at the records).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>

#include "base/assert.h"

namespace relay {

template <typename T>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  SmallVector() noexcept {}
  ~SmallVector() { release(); }
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* data() noexcept { return on_heap() ? heap_ : &inline_; }
  const T* data() const noexcept { return on_heap() ? heap_ : &inline_; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  T& operator[](size_t i) noexcept { return data()[i]; }
  const T& operator[](size_t i) const noexcept { return data()[i]; }
  T& back() noexcept { return data()[size_ - 1]; }

  void push_back(const T& v) {
    if (size_ == cap_) grow();
    data()[size_++] = v;
  }
  // Back inline once one element is left: a channel that had a crowd and is down to its
  // last subscriber does not keep the crowd's array.
  void pop_back() noexcept {
    RELAY_ASSERT(size_ > 0);
    --size_;
    if (on_heap() && size_ <= 1) {
      T* h = heap_;
      if (size_ == 1) std::memcpy(static_cast<void*>(&inline_), h, sizeof(T));
      ::operator delete(h);
      cap_ = 1;
    }
  }
  void clear() noexcept {
    release();
    size_ = 0;
    cap_ = 1;
  }

 private:
  bool on_heap() const noexcept { return cap_ > 1; }
  void release() noexcept {
    if (on_heap()) ::operator delete(heap_);
  }
  void grow() {
    RELAY_ASSERT(cap_ <= UINT32_MAX / 2);
    const uint32_t cap = cap_ * 2;
    T* h = static_cast<T*>(::operator new(sizeof(T) * cap));
    std::memcpy(static_cast<void*>(h), data(), sizeof(T) * size_);
    release();
    heap_ = h;
    cap_ = cap;
  }

  union {
    T inline_;  // cap_ == 1
    T* heap_;   // cap_ > 1
  };
  uint32_t size_ = 0;
  uint32_t cap_ = 1;
};

}  // namespace relay
