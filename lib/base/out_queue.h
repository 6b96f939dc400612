// SPDX-License-Identifier: MIT
// OutQueue: the bytes waiting to be written to one connection, as a ring of
// {FrameRef, offset} entries. It is flushed with one writev of many entries, so a
// burst of frames costs one syscall. The ring starts as one inline entry, so a queue
// that never holds more than one frame at a time (an idle connection's 101 answer, a
// subscriber of a quiet channel) allocates nothing; past that it moves to the heap,
// grows by doubling and never shrinks below its high-water mark, so a steady flow
// allocates nothing per frame either; a ring grown past kRingKept entries is given back
// when the queue empties, so a burst does not leave a large ring behind.
//
// memory() is what the queue holds, the figure a client's slow-consumer limits judge:
// per entry, the whole frame block it references (header, payload, the allocator's
// overhead) plus the ring entry. A frame shared by a fan-out is counted in full in every
// queue that references it, not divided by its reference count: it is what the slowest
// reader pins on its own once the others have written their copy, and it costs O(1) per
// push (a share would change every time another queue lets go of the frame). Summed over
// 2,000 queues of one channel it would count the same frames 2,000 times, so the global
// budget counts frames once instead (FrameRef::live_bytes()) plus entry_bytes() per queue.
// No syscalls here: gather() fills an iovec array for the caller's writev.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "base/frame_ref.h"

namespace relay {

class OutQueue {
 public:
  OutQueue() = default;
  OutQueue(const OutQueue&) = delete;  // nor movable: ring_ may point at inline_
  OutQueue& operator=(const OutQueue&) = delete;
  ~OutQueue();

  void push(FrameRef f);
  bool empty() const noexcept { return count_ == 0; }
  size_t frames() const noexcept { return count_; }
  size_t bytes() const noexcept { return bytes_; }  // queued and not yet written
  size_t memory() const noexcept { return held_; }  // heap memory held (see above)
  // What queueing a new frame of this many payload bytes adds to memory() (at most: the
  // largest frame header), for callers that must know before they encode (a replay).
  static size_t memory_for_payload(size_t payload_bytes) noexcept {
    return FrameRef::footprint_for(payload_bytes + kMaxFrameHeader) + sizeof(Entry);
  }
  static constexpr size_t kMaxFrameHeader = 14;  // RFC 6455 §5.2: 2 + 8 + a 4-byte mask
  // The queue's own part of it, without the frames: its ring entries.
  size_t entry_bytes() const noexcept { return size_t(count_) * sizeof(Entry); }
  // True while the front frame is partly written: nothing may be put before it.
  bool front_started() const noexcept { return count_ && ring_[head_].offset != 0; }
  // Entries the ring holds without growing (1 until a second frame is queued).
  size_t capacity() const noexcept { return size_t(mask_) + 1; }
  // A ring up to this many entries is kept when the queue empties (a steady flow
  // allocates nothing); a larger one is freed then. Its 16 bytes per entry, up to 4 KiB,
  // are part of a connection's fixed cost, not of memory().
  static constexpr size_t kRingKept = 256;

  // Fills iov[0..max) with the unwritten bytes from the front; returns entries used.
  int gather(iovec* iov, int max) const noexcept;
  // Marks n bytes from the front as written, dropping finished frames.
  // Calls on_sent(frame) for each frame that finished (may be null).
  template <typename F>
  void consume(size_t n, F&& on_sent);
  void consume(size_t n) {
    consume(n, [](const FrameRef&) {});
  }
  void clear() noexcept;
  // Drops every frame not yet started (a partly written front frame stays, so the
  // byte stream stays well-formed). Used before closing a slow consumer.
  void drop_unstarted() noexcept;

 private:
  struct Entry {
    FrameRef frame;
    size_t offset = 0;  // bytes of frame already written
  };
  void grow();
  void release_ring() noexcept;  // back to the inline entry (the queue is empty)
  static size_t held_by(const FrameRef& f) noexcept { return f.footprint() + sizeof(Entry); }
  bool is_inline() const noexcept { return ring_ == &inline_; }
  Entry inline_;            // the ring of capacity 1, before the first growth
  Entry* ring_ = &inline_;  // capacity mask_ + 1, a power of two
  uint32_t mask_ = 0;
  uint32_t head_ = 0;
  uint32_t count_ = 0;  // bounded by the daemon's queue limits, far below 2^32
  size_t bytes_ = 0;
  size_t held_ = 0;
};

template <typename F>
void OutQueue::consume(size_t n, F&& on_sent) {
  bytes_ -= n;
  const uint32_t mask = mask_;
  while (n > 0) {
    Entry& e = ring_[head_];
    size_t left = e.frame.size() - e.offset;
    if (n < left) {
      e.offset += n;
      return;
    }
    n -= left;
    on_sent(e.frame);
    held_ -= held_by(e.frame);
    e.frame.reset();
    e.offset = 0;
    head_ = (head_ + 1) & mask;
    --count_;
  }
  // Zero-length frames at the front are finished too.
  while (count_ && ring_[head_].frame.size() == 0) {
    on_sent(ring_[head_].frame);
    held_ -= held_by(ring_[head_].frame);
    ring_[head_].frame.reset();
    head_ = (head_ + 1) & mask;
    --count_;
  }
  if (count_ == 0 && mask_ >= kRingKept) release_ring();
}

}  // namespace relay
