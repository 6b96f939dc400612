// SPDX-License-Identifier: MIT
// CompressedFrames: the permessage-deflate twin of the frame being fanned out (RFC 7692),
// made at most once per message per window size, and only when a subscriber that
// negotiated deflate asks for it. Every such subscriber queues a reference to the same
// compressed frame: the server never takes context over (server_no_context_takeover is
// always agreed), so the compressed bytes do not depend on the connection.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include "base/frame_ref.h"
#include "config.h"
#include "stats.h"
#include "ws/deflate.h"
#include "ws/deflate_offer.h"
#include "ws/frame.h"

namespace relay::daemon {

class CompressedFrames {
 public:
  explicit CompressedFrames(Stats& stats) noexcept : stats_(stats) {}
  CompressedFrames(const CompressedFrames&) = delete;
  CompressedFrames& operator=(const CompressedFrames&) = delete;

  // A message's fan-out starts: `plain` (which must outlive end()) carries `payload`
  // as `op`. Twins are made lazily by frame_for().
  void begin(const FrameRef& plain, ws::Opcode op, std::span<const std::byte> payload,
             const CompressionOptions& opts) noexcept;
  // The fan-out ended: the twins' own references go (the queues keep theirs).
  void end() noexcept;

  // The frame a subscriber with these agreed parameters gets for `plain`: the compressed
  // twin when compression is on for the message, the payload is at least min_bytes and
  // the twin is smaller; else `plain` itself. No allocation once the twin is made.
  const FrameRef& frame_for(const FrameRef& plain, const ws::DeflateParams& p) noexcept;

 private:
  static constexpr int kMinBits = 9;  // zlib's raw deflate writes 9..15-bit windows
  static constexpr size_t kWindows = 7;

  Stats& stats_;
  const FrameRef* plain_ = nullptr;  // null: no message, or compression off for it
  std::span<const std::byte> payload_;
  CompressionOptions opts_;
  ws::Opcode op_ = ws::Opcode::kText;
  uint8_t tried_ = 0;  // bit w - kMinBits: a twin with window w was attempted
  std::array<FrameRef, kWindows> twins_;
  // One compressor per window size (zlib's state is ~256 KiB at 15 bits), made on first
  // use and kept; recreated when a channel asks for another level.
  std::array<std::unique_ptr<ws::Deflater>, kWindows> deflaters_;
  std::array<uint8_t, kWindows> levels_{};
};

}  // namespace relay::daemon
