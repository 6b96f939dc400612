// SPDX-License-Identifier: MIT
#include "base/frame_ref.h"

#include <cstring>
#include <new>

#include "base/assert.h"

namespace relay {

FrameRef FrameRef::allocate(size_t size) {
  // operator new, not malloc, so one allocation hook (the tests' counter) sees every
  // allocation. Failure aborts, as Redis' zmalloc does.
  void* mem = ::operator new(sizeof(Block) + size, std::nothrow);
  RELAY_ASSERT(mem != nullptr);
  FrameRef f;
  f.b_ = static_cast<Block*>(mem);
  f.b_->refs = 1;
  f.b_->size = size;
  f.b_->stamp_ns = 0;
  live_bytes_ += footprint_of(size);
  return f;
}

FrameRef FrameRef::copy_of(std::span<const std::byte> bytes) {
  FrameRef f = allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(bytes_of(f.b_), bytes.data(), bytes.size());
  return f;
}

std::span<std::byte> FrameRef::mutable_bytes() noexcept {
  RELAY_ASSERT(b_ && b_->refs == 1);
  return {bytes_of(b_), b_->size};
}

void FrameRef::release(Block* b) noexcept {
  live_bytes_ -= footprint_of(b->size);
  ::operator delete(b);
}

}  // namespace relay
