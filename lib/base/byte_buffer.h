// SPDX-License-Identifier: MIT
// ByteBuffer: one growable input buffer per connection. Bytes arrive at the tail
// (space() + commit()), are parsed and unmasked in place, and leave at the head
// (consume()). The live bytes move to the front only when that frees half the
// buffer, so compaction stays amortised O(1) per byte. No syscalls here.
#pragma once

#include <cstddef>
#include <span>

namespace relay {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&& o) noexcept;
  ByteBuffer& operator=(ByteBuffer&& o) noexcept;
  ~ByteBuffer();

  std::byte* data() noexcept { return buf_ + head_; }
  const std::byte* data() const noexcept { return buf_ + head_; }
  size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return tail_ == head_; }
  std::span<std::byte> readable() noexcept { return {data(), size()}; }

  // A writable area of at least `min` bytes at the tail (grows or compacts).
  std::span<std::byte> space(size_t min);
  void commit(size_t n) noexcept { tail_ += n; }
  void consume(size_t n) noexcept;
  void append(std::span<const std::byte> bytes);
  void clear() noexcept { head_ = tail_ = 0; }
  // Frees the storage when empty (idle connections keep no buffer).
  void shrink_if_empty() noexcept;
  size_t capacity() const noexcept { return cap_; }

 private:
  std::byte* buf_ = nullptr;
  size_t cap_ = 0;
  size_t head_ = 0;  // first live byte
  size_t tail_ = 0;  // one past the last live byte
};

}  // namespace relay
