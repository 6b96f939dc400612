// SPDX-License-Identifier: MIT
// RFC 6455 §5.2 frame headers and §5.3 masking. Pure functions over caller memory:
// no syscalls, no clock. random_mask_key() is the one exception that reads entropy
// (OpenSSL's CSPRNG), buffered per thread so one key costs a few nanoseconds.
#include "ws/frame.h"

#include <openssl/rand.h>

#include <bit>
#include <cstring>

#include "base/assert.h"

namespace relay::ws {

namespace {

// A uint64_t that may alias any bytes (GCC/Clang), so the mask loop can use plain
// word loads and stores that the compiler is free to vectorise.
using AliasedWord = uint64_t __attribute__((__may_alias__, __aligned__(8)));

// The 4 key bytes as they appear in memory, starting `offset` bytes into the key.
// The key was loaded natively from wire order, so a byte rotation in memory order is a
// right rotation on little-endian and a left rotation on big-endian.
inline uint32_t rotate_key(uint32_t key, size_t offset) noexcept {
  const int bits = static_cast<int>((offset & 3) * 8);
  if constexpr (std::endian::native == std::endian::little) {
    return std::rotr(key, bits);
  } else {
    return std::rotl(key, bits);
  }
}

inline uint8_t key_byte(uint32_t key, size_t i) noexcept {
  uint8_t b[4];
  std::memcpy(b, &key, 4);
  return b[i & 3];
}

}  // namespace

HeaderStatus decode_header(std::span<const std::byte> in, FrameHeader* out) noexcept {
  // RFC 6455 §5.2: FIN, RSV1-3, opcode (4 bits) | MASK, payload len (7 bits),
  // then 16 or 64 bits of extended length, then the 4-byte masking key if MASK is set.
  if (in.size() < 2) return HeaderStatus::kNeedMore;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t b0 = p[0];
  const uint8_t b1 = p[1];
  const uint8_t len7 = b1 & 0x7F;
  const size_t len_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const bool masked = (b1 & 0x80) != 0;
  const size_t header_len = 2 + len_bytes + (masked ? 4 : 0);
  if (in.size() < header_len) return HeaderStatus::kNeedMore;

  uint64_t len = len7;
  if (len_bytes != 0) {
    // RFC 6455 §5.2: extended lengths are in network byte order.
    len = 0;
    for (size_t i = 0; i < len_bytes; ++i) len = (len << 8) | p[2 + i];
    // RFC 6455 §5.2: "the most significant bit MUST be 0" for the 64-bit length.
    if (len_bytes == 8 && (len >> 63) != 0) return HeaderStatus::kBadLength;
  }
  out->fin = (b0 & 0x80) != 0;
  out->rsv = (b0 >> 4) & 0x7;
  out->opcode = static_cast<Opcode>(b0 & 0x0F);
  out->masked = masked;
  out->mask_key = 0;
  if (masked) std::memcpy(&out->mask_key, p + 2 + len_bytes, 4);
  out->payload_len = len;
  out->header_len = header_len;
  return HeaderStatus::kOk;
}

size_t encode_header(std::byte* out, bool fin, Opcode op, uint64_t payload_len,
                     const uint32_t* mask_key, uint8_t rsv) noexcept {
  auto* p = reinterpret_cast<uint8_t*>(out);
  p[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) |
                              (static_cast<uint8_t>(op) & 0x0F));
  const uint8_t mask_bit = mask_key ? 0x80 : 0;
  size_t n;
  // RFC 6455 §5.2: the minimal number of bytes must be used to encode the length.
  if (payload_len < 126) {
    p[1] = static_cast<uint8_t>(mask_bit | payload_len);
    n = 2;
  } else if (payload_len <= 0xFFFF) {
    p[1] = mask_bit | 126;
    p[2] = static_cast<uint8_t>(payload_len >> 8);
    p[3] = static_cast<uint8_t>(payload_len);
    n = 4;
  } else {
    p[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<uint8_t>(payload_len >> (56 - 8 * i));
    n = 10;
  }
  if (mask_key) {
    std::memcpy(p + n, mask_key, 4);
    n += 4;
  }
  return n;
}

size_t apply_mask(std::byte* data, size_t len, uint32_t mask_key, size_t key_offset) noexcept {
  // RFC 6455 §5.3: octet i of the payload is XORed with octet (i mod 4) of the key.
  // Bytes until `data` is 8-aligned go one at a time; then whole aligned words with the
  // key rotated to the current offset and doubled to 64 bits; then the tail bytes.
  const size_t end_offset = (key_offset + len) & 3;
  size_t off = key_offset & 3;
  auto* p = reinterpret_cast<uint8_t*>(data);
  while (len != 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    *p++ ^= key_byte(mask_key, off++);
    --len;
  }
  const uint32_t k32 = rotate_key(mask_key, off);
  const uint64_t k64 = (uint64_t{k32} << 32) | k32;
  auto* w = reinterpret_cast<AliasedWord*>(p);
  const size_t words = len / 8;
  // A plain counted loop over aligned words: GCC and Clang turn it into SIMD XORs.
  for (size_t i = 0; i < words; ++i) w[i] ^= k64;
  p += words * 8;
  len -= words * 8;
  // The word loop advanced a multiple of 4 key bytes, so `off` is still right.
  for (size_t i = 0; i < len; ++i) p[i] ^= key_byte(mask_key, off + i);
  return end_offset;
}

uint32_t random_mask_key() noexcept {
  // RFC 6455 §5.3: the key "MUST be derived from a strong source of entropy" and be
  // unpredictable per frame. RAND_bytes is OpenSSL's CSPRNG; one call fills 256 keys.
  constexpr size_t kKeys = 256;
  thread_local uint32_t pool[kKeys];
  thread_local size_t left = 0;
  if (left == 0) {
    const int ok = RAND_bytes(reinterpret_cast<unsigned char*>(pool), sizeof(pool));
    RELAY_ASSERT(ok == 1);  // no entropy is not something a WebSocket can recover from
    left = kKeys;
  }
  return pool[--left];
}

FrameRef prepare_server_frame(Opcode op, std::span<const std::byte> payload, uint8_t rsv) {
  // RFC 6455 §5.1: a server MUST NOT mask frames it sends, so the same bytes serve
  // every connection.
  std::byte header[kMaxHeaderBytes];
  const size_t hlen = encode_header(header, true, op, payload.size(), nullptr, rsv);
  FrameRef f = FrameRef::allocate(hlen + payload.size());
  std::byte* out = f.mutable_bytes().data();
  std::memcpy(out, header, hlen);
  if (!payload.empty()) std::memcpy(out + hlen, payload.data(), payload.size());
  return f;
}

}  // namespace relay::ws
