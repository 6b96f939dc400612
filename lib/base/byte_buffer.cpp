// SPDX-License-Identifier: MIT
#include "base/byte_buffer.h"

#include <cstring>
#include <new>
#include <utility>

#include "base/assert.h"

namespace relay {
namespace {
void release(std::byte* buf) noexcept { ::operator delete(buf); }
}  // namespace

ByteBuffer::ByteBuffer(ByteBuffer&& o) noexcept
    : buf_(std::exchange(o.buf_, nullptr)),
      cap_(std::exchange(o.cap_, 0)),
      head_(std::exchange(o.head_, 0)),
      tail_(std::exchange(o.tail_, 0)) {}

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& o) noexcept {
  if (this != &o) {
    release(buf_);
    buf_ = std::exchange(o.buf_, nullptr);
    cap_ = std::exchange(o.cap_, 0);
    head_ = std::exchange(o.head_, 0);
    tail_ = std::exchange(o.tail_, 0);
  }
  return *this;
}

ByteBuffer::~ByteBuffer() { release(buf_); }

std::span<std::byte> ByteBuffer::space(size_t min) {
  if (cap_ - tail_ >= min) return {buf_ + tail_, cap_ - tail_};
  size_t live = size();
  if (head_ > 0 && cap_ - live >= min && head_ >= cap_ / 2) {
    std::memmove(buf_, buf_ + head_, live);
  } else {
    size_t cap = cap_ ? cap_ : 4096;
    while (cap - live < min) cap *= 2;
    // operator new, not malloc, so one allocation hook (the tests' counter) sees it.
    auto* next = static_cast<std::byte*>(::operator new(cap, std::nothrow));
    RELAY_ASSERT(next != nullptr);
    if (live) std::memcpy(next, buf_ + head_, live);
    release(buf_);
    buf_ = next;
    cap_ = cap;
  }
  head_ = 0;
  tail_ = live;
  return {buf_ + tail_, cap_ - tail_};
}

void ByteBuffer::consume(size_t n) noexcept {
  RELAY_ASSERT(n <= size());
  head_ += n;
  if (head_ == tail_) head_ = tail_ = 0;
}

void ByteBuffer::append(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  auto s = space(bytes.size());
  std::memcpy(s.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void ByteBuffer::shrink_if_empty() noexcept {
  if (head_ == tail_ && buf_) {
    release(buf_);
    buf_ = nullptr;
    cap_ = head_ = tail_ = 0;
  }
}

}  // namespace relay
