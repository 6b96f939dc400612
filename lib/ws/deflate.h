// SPDX-License-Identifier: MIT
// permessage-deflate's bytes (RFC 7692 §7.2): zlib raw deflate of a whole message with
// the trailing 00 00 ff ff removed, and raw inflate with a hard cap on the output.
// A Deflater never keeps context between messages (server_no_context_takeover: the same
// compressed bytes serve every connection); an Inflater keeps its window between messages
// unless the peer agreed to client_no_context_takeover.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/byte_buffer.h"

namespace relay::ws {

// zlib level for what a connection compresses itself (ws_* API): 1 is the fastest and
// gets most of the gain on text and JSON.
constexpr int kDefaultDeflateLevel = 1;

class Deflater {
 public:
  // level 1..9 (zlib's), window_bits 9..15. The zlib stream is created on first use.
  Deflater(int level, int window_bits) noexcept;
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Compresses one whole message gathered from `parts`; the result (without the 4-byte
  // tail, §7.2.1) stays valid until the next call. Empty span on a zlib failure.
  std::span<const std::byte> compress(std::span<const std::span<const std::byte>> parts);
  std::span<const std::byte> compress(std::span<const std::byte> payload) {
    const std::span<const std::byte> parts[1] = {payload};
    return compress(std::span<const std::span<const std::byte>>(parts));
  }

 private:
  struct Stream;
  std::unique_ptr<Stream> z_;
  std::vector<std::byte> out_;
  int level_;
  int window_bits_;
};

enum class InflateStatus : uint8_t {
  kOk,
  kTooBig,   // the output would pass the cap: close 1009 (RFC 6455 §7.4.1)
  kBadData,  // not a valid deflate stream: close 1007
};

class Inflater {
 public:
  explicit Inflater(int window_bits) noexcept;
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates `in` (a piece of a compressed message), appending to *out; *out never grows
  // past `cap` bytes: output is produced in bounded chunks, so a deflate bomb stops at
  // the cap having cost at most cap bytes.
  InflateStatus feed(std::span<const std::byte> in, ByteBuffer* out, size_t cap);
  // The end of the message: inflates the 00 00 ff ff tail (§7.2.2).
  InflateStatus finish(ByteBuffer* out, size_t cap);
  // Forgets the window (client_no_context_takeover, or a failure).
  void reset() noexcept;
  // Frees zlib's state (about 7 KiB plus the window); the next feed() allocates it again.
  void release() noexcept;
  bool allocated() const noexcept { return z_ != nullptr; }

 private:
  struct Stream;
  std::unique_ptr<Stream> z_;
  int window_bits_;
};

}  // namespace relay::ws
