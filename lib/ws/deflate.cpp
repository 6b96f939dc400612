// SPDX-License-Identifier: MIT
// zlib raw deflate / inflate for permessage-deflate (RFC 7692 §7.2). Negative windowBits
// select raw streams (no zlib header or checksum), which is what the RFC carries.
#include "ws/deflate.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace relay::ws {

namespace {
// RFC 7692 §7.2.1: a message compressed with a sync flush ends in this empty stored
// block, which the sender removes and the receiver adds back (§7.2.2).
constexpr std::byte kTail[4] = {std::byte{0x00}, std::byte{0x00}, std::byte{0xff}, std::byte{0xff}};
// Inflate output is produced this much at a time, so the cap is checked before memory grows.
constexpr size_t kInflateChunk = 16 * 1024;
// zlib's memLevel: 8 is its default (deflate state ~ 2^(memLevel+9) bytes for the hash).
constexpr int kMemLevel = 8;
}  // namespace

struct Deflater::Stream {
  z_stream z{};
  bool ready = false;
  ~Stream() {
    if (ready) deflateEnd(&z);
  }
};

Deflater::Deflater(int level, int window_bits) noexcept
    : level_(level), window_bits_(window_bits) {}

Deflater::~Deflater() = default;

std::span<const std::byte> Deflater::compress(std::span<const std::span<const std::byte>> parts) {
  if (!z_) z_ = std::make_unique<Stream>();
  if (!z_->ready) {
    if (deflateInit2(&z_->z, std::clamp(level_, 1, 9), Z_DEFLATED, -std::clamp(window_bits_, 9, 15),
                     kMemLevel, Z_DEFAULT_STRATEGY) != Z_OK)
      return {};
    z_->ready = true;
  } else if (deflateReset(&z_->z) != Z_OK) {  // no context takeover: each message alone
    return {};
  }
  z_stream& z = z_->z;
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  // deflateBound covers the data; the sync flush adds an empty stored block (5 bytes).
  out_.resize(deflateBound(&z, static_cast<uLong>(total)) + 16);
  size_t used = 0;
  for (size_t i = 0; i <= parts.size(); ++i) {
    const bool last = i == parts.size();
    if (!last && parts[i].empty()) continue;
    z.next_in = last ? nullptr : reinterpret_cast<Bytef*>(const_cast<std::byte*>(parts[i].data()));
    z.avail_in = last ? 0 : static_cast<uInt>(parts[i].size());
    for (;;) {
      if (used == out_.size()) out_.resize(out_.size() * 2);
      z.next_out = reinterpret_cast<Bytef*>(out_.data() + used);
      z.avail_out = static_cast<uInt>(out_.size() - used);
      const int rc = deflate(&z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      used = out_.size() - z.avail_out;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return {};
      // Done with this part when all input is taken and zlib had room to spare.
      if (z.avail_in == 0 && z.avail_out != 0) break;
    }
  }
  // §7.2.1: remove the trailing 00 00 ff ff the sync flush wrote.
  if (used < 4 || std::memcmp(out_.data() + used - 4, kTail, 4) != 0) return {};
  return {out_.data(), used - 4};
}

struct Inflater::Stream {
  z_stream z{};
  bool ready = false;
  ~Stream() {
    if (ready) inflateEnd(&z);
  }
};

Inflater::Inflater(int window_bits) noexcept : window_bits_(window_bits) {}

Inflater::~Inflater() = default;

void Inflater::reset() noexcept {
  if (z_ && z_->ready) inflateReset(&z_->z);
}

void Inflater::release() noexcept { z_.reset(); }

InflateStatus Inflater::feed(std::span<const std::byte> in, ByteBuffer* out, size_t cap) {
  if (!z_) z_ = std::make_unique<Stream>();
  if (!z_->ready) {
    if (inflateInit2(&z_->z, -std::clamp(window_bits_, 9, 15)) != Z_OK)
      return InflateStatus::kBadData;
    z_->ready = true;
  }
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (out->size() > cap) return InflateStatus::kTooBig;
    // One byte past the cap is room enough to learn that the message is too big.
    const size_t want = std::min(kInflateChunk, cap - out->size() + 1);
    std::span<std::byte> space = out->space(want);
    z.next_out = reinterpret_cast<Bytef*>(space.data());
    z.avail_out = static_cast<uInt>(want);
    const uInt in_before = z.avail_in;
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    const size_t produced = want - z.avail_out;
    out->commit(produced);
    if (out->size() > cap) return InflateStatus::kTooBig;
    if (rc == Z_STREAM_END) {
      // The sender closed the stream (BFINAL): what follows, the tail included, starts
      // a new one.
      inflateReset(&z);
      if (z.avail_in == 0) return InflateStatus::kOk;
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: all input taken (fine) or nothing could be done (bad).
      if (z.avail_in == 0) return InflateStatus::kOk;
      if (produced == 0 && in_before == z.avail_in) return InflateStatus::kBadData;
      continue;
    }
    if (rc != Z_OK) return InflateStatus::kBadData;
    if (z.avail_in == 0 && z.avail_out != 0) return InflateStatus::kOk;
  }
}

InflateStatus Inflater::finish(ByteBuffer* out, size_t cap) { return feed(kTail, out, cap); }

}  // namespace relay::ws
