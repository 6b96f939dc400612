// SPDX-License-Identifier: MIT
// FrameRef: an immutable, reference-counted byte block holding one encoded frame
// (header + payload in one allocation). A fan-out encodes a frame once and queues a
// reference per subscriber, so the payload is never copied per subscriber.
// The count is a plain integer: every FrameRef lives on one reactor thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace relay {

class FrameRef {
 public:
  FrameRef() noexcept = default;
  // A new block of `size` uninitialised bytes with one reference. Fill it through
  // mutable_bytes() before sharing it; after the first copy it must not change.
  static FrameRef allocate(size_t size);
  // A new block holding a copy of `bytes`.
  static FrameRef copy_of(std::span<const std::byte> bytes);

  FrameRef(const FrameRef& o) noexcept : b_(o.b_) {
    if (b_) ++b_->refs;
  }
  FrameRef(FrameRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  FrameRef& operator=(const FrameRef& o) noexcept {
    FrameRef tmp(o);
    std::swap(b_, tmp.b_);
    return *this;
  }
  FrameRef& operator=(FrameRef&& o) noexcept {
    FrameRef tmp(std::move(o));
    std::swap(b_, tmp.b_);
    return *this;
  }
  ~FrameRef() { reset(); }

  void reset() noexcept {
    if (b_ && --b_->refs == 0) release(b_);
    b_ = nullptr;
  }
  explicit operator bool() const noexcept { return b_ != nullptr; }
  std::span<const std::byte> bytes() const noexcept {
    return b_ ? std::span<const std::byte>(bytes_of(b_), b_->size) : std::span<const std::byte>();
  }
  const std::byte* data() const noexcept { return b_ ? bytes_of(b_) : nullptr; }
  size_t size() const noexcept { return b_ ? b_->size : 0; }
  // The heap memory the block takes: its header, the frame bytes, and the allocator's
  // own header and rounding (glibc: 8 bytes of chunk header, 16-byte steps, 32 at least).
  size_t footprint() const noexcept { return b_ ? footprint_of(b_->size) : 0; }
  // The footprint of every block alive on this thread: what all queues together hold in
  // frames, a frame shared by a fan-out counted once (the daemon's global queue budget).
  static uint64_t live_bytes() noexcept { return live_bytes_; }
  // Writable only while this is the sole reference (the encoding phase).
  std::span<std::byte> mutable_bytes() noexcept;
  uint32_t use_count() const noexcept { return b_ ? b_->refs : 0; }
  // When the message entered the relay (monotonic ns); for the latency histogram.
  int64_t stamp_ns() const noexcept { return b_ ? b_->stamp_ns : 0; }
  void set_stamp_ns(int64_t ns) noexcept {
    if (b_) b_->stamp_ns = ns;
  }
  // What a frame of this many bytes will hold once made (footprint() before it exists).
  static size_t footprint_for(size_t frame_bytes) noexcept { return footprint_of(frame_bytes); }

 private:
  // The frame bytes follow the block in the same allocation (see bytes_of()).
  struct Block {
    uint32_t refs;
    size_t size;       // frame bytes after the block
    int64_t stamp_ns;  // 0 = not stamped
  };
  static constexpr size_t footprint_of(size_t frame_bytes) noexcept {
    const size_t n = (sizeof(Block) + frame_bytes + 8 + 15) & ~size_t(15);
    return n < 32 ? 32 : n;
  }
  static std::byte* bytes_of(Block* b) noexcept { return reinterpret_cast<std::byte*>(b + 1); }
  static void release(Block* b) noexcept;
  static thread_local inline uint64_t live_bytes_ = 0;
  Block* b_ = nullptr;
};

}  // namespace relay
