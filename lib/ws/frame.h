// SPDX-License-Identifier: MIT
// RFC 6455 §5.2 frame headers: encode, decode, and masking. No syscalls, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/frame_ref.h"

namespace relay::ws {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

inline bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

constexpr size_t kMaxHeaderBytes = 14;      // 2 + 8 (64-bit length) + 4 (mask key)
constexpr size_t kMaxControlPayload = 125;  // RFC 6455 §5.5

struct FrameHeader {
  bool fin = true;
  uint8_t rsv = 0;  // RSV1..3 as bits 2..0 (0x4 = RSV1)
  Opcode opcode = Opcode::kBinary;
  bool masked = false;
  uint32_t mask_key = 0;  // the 4 key bytes in wire order, loaded as a native uint32_t
  uint64_t payload_len = 0;
  size_t header_len = 0;  // bytes the header took on the wire
};

enum class HeaderStatus : uint8_t { kOk, kNeedMore, kBadLength };

// Decodes a header from the start of `in`. kBadLength: a 64-bit length with the top bit
// set, or a length not in its shortest form is *not* checked (RFC does not require it).
HeaderStatus decode_header(std::span<const std::byte> in, FrameHeader* out) noexcept;

// Writes the header to `out` (>= kMaxHeaderBytes) and returns its length.
size_t encode_header(std::byte* out, bool fin, Opcode op, uint64_t payload_len,
                     const uint32_t* mask_key /* null: unmasked */, uint8_t rsv = 0) noexcept;

// XORs data with the mask key, starting `key_offset` bytes into the key cycle.
// Word-at-a-time (8 bytes per step); returns the new key offset (key_offset + len) % 4.
size_t apply_mask(std::byte* data, size_t len, uint32_t mask_key, size_t key_offset = 0) noexcept;

// A random masking key from a strong source (RFC 6455 §5.3).
uint32_t random_mask_key() noexcept;

// One whole unmasked (server-to-client) frame, encoded once: header + payload in one
// FrameRef that any number of connections can queue. This is what fan-out shares.
// rsv 0x4 (RSV1) marks a permessage-deflate payload (RFC 7692 §6).
FrameRef prepare_server_frame(Opcode op, std::span<const std::byte> payload, uint8_t rsv = 0);

}  // namespace relay::ws
