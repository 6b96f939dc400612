// SPDX-License-Identifier: MIT
// The compressed twin of a fanned-out frame: compressed once, shared by reference.
#include "compressed_frames.h"

namespace relay::daemon {

void CompressedFrames::begin(const FrameRef& plain, ws::Opcode op,
                             std::span<const std::byte> payload,
                             const CompressionOptions& opts) noexcept {
  tried_ = 0;
  // Below min_bytes nothing is tried at all: the plain frame serves everyone.
  plain_ = opts.enabled && payload.size() >= opts.min_bytes ? &plain : nullptr;
  payload_ = payload;
  opts_ = opts;
  op_ = op;
}

void CompressedFrames::end() noexcept {
  plain_ = nullptr;
  payload_ = {};
  for (size_t i = 0; i < kWindows; ++i)
    if (tried_ & (1u << i)) twins_[i].reset();
  tried_ = 0;
}

const FrameRef& CompressedFrames::frame_for(const FrameRef& plain,
                                            const ws::DeflateParams& p) noexcept {
  // Only the frame of the message being fanned out has a twin; an 8-bit window cannot
  // be written by zlib, so such a subscriber gets plain frames (always allowed, §6).
  if (!plain_ || plain.data() != plain_->data() || p.server_max_window_bits < kMinBits)
    return plain;
  const size_t w = static_cast<size_t>(p.server_max_window_bits - kMinBits);
  if (!(tried_ & (1u << w))) {
    tried_ |= static_cast<uint8_t>(1u << w);
    auto& d = deflaters_[w];
    if (!d || levels_[w] != opts_.level) {
      d = std::make_unique<ws::Deflater>(opts_.level, p.server_max_window_bits);
      levels_[w] = opts_.level;
    }
    std::span<const std::byte> z = d->compress(payload_);
    // Worth it only when smaller (an empty result is a zlib failure).
    if (!z.empty() && z.size() < payload_.size()) {
      twins_[w] = ws::prepare_server_frame(op_, z, /*rsv=*/0x4);  // RFC 7692 §6: RSV1
      twins_[w].set_stamp_ns(plain.stamp_ns());
      stats_.compression_bytes_in += payload_.size();
      stats_.compression_bytes_out += z.size();
    }
  }
  return twins_[w] ? twins_[w] : plain;
}

}  // namespace relay::daemon
