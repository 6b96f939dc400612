// SPDX-License-Identifier: MIT
// Frame header codec and masking (lib/ws/frame.cpp) against the RFC 6455 §5.7 examples
// and a byte-by-byte reference.
#include "ws/frame.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "test_util.h"

namespace relay::ws {
namespace {

using test::bytes;
using test::hex;
using test::str;

std::string encode(bool fin, Opcode op, uint64_t len, const uint32_t* key = nullptr,
                   uint8_t rsv = 0) {
  std::byte buf[kMaxHeaderBytes];
  size_t n = encode_header(buf, fin, op, len, key, rsv);
  return std::string(reinterpret_cast<const char*>(buf), n);
}

const std::string kHello = "Hello";
// RFC 6455 §5.7 examples.
const std::string kUnmaskedHello = hex({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedHello =
    hex({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const std::string kHel = hex({0x01, 0x03, 0x48, 0x65, 0x6c});
const std::string kLo = hex({0x80, 0x02, 0x6c, 0x6f});
const std::string kPingHello = hex({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedPongHello =
    hex({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

TEST(FrameHeader, DecodesRfcUnmaskedHello) {
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(kUnmaskedHello), &h), HeaderStatus::kOk);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.rsv, 0);
  EXPECT_EQ(h.opcode, Opcode::kText);
  EXPECT_FALSE(h.masked);
  EXPECT_EQ(h.payload_len, 5u);
  EXPECT_EQ(h.header_len, 2u);
}

TEST(FrameHeader, DecodesRfcMaskedHelloAndUnmasks) {
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(kMaskedHello), &h), HeaderStatus::kOk);
  EXPECT_TRUE(h.masked);
  EXPECT_EQ(h.header_len, 6u);
  EXPECT_EQ(h.payload_len, 5u);
  std::string payload = kMaskedHello.substr(6);
  apply_mask(reinterpret_cast<std::byte*>(payload.data()), payload.size(), h.mask_key);
  EXPECT_EQ(payload, kHello);
}

TEST(FrameHeader, DecodesRfcFragmentsAndControlFrames) {
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(kHel), &h), HeaderStatus::kOk);
  EXPECT_FALSE(h.fin);
  EXPECT_EQ(h.opcode, Opcode::kText);
  EXPECT_EQ(h.payload_len, 3u);
  ASSERT_EQ(decode_header(bytes(kLo), &h), HeaderStatus::kOk);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, Opcode::kContinuation);
  EXPECT_EQ(h.payload_len, 2u);
  ASSERT_EQ(decode_header(bytes(kPingHello), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.opcode, Opcode::kPing);
  EXPECT_TRUE(is_control(h.opcode));
  ASSERT_EQ(decode_header(bytes(kMaskedPongHello), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.opcode, Opcode::kPong);
  EXPECT_TRUE(h.masked);
}

TEST(FrameHeader, DecodesRfc256And64KiBLengths) {
  // RFC 6455 §5.7: "256 bytes binary message in a single unmasked frame" and
  // "64KiB binary message in a single unmasked frame".
  const std::string h256 = hex({0x82, 0x7E, 0x01, 0x00});
  const std::string h64k = hex({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0, 0});
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(h256), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.payload_len, 256u);
  EXPECT_EQ(h.header_len, 4u);
  EXPECT_EQ(h.opcode, Opcode::kBinary);
  ASSERT_EQ(decode_header(bytes(h64k), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.payload_len, 65536u);
  EXPECT_EQ(h.header_len, 10u);
  EXPECT_EQ(encode(true, Opcode::kBinary, 256), h256);
  EXPECT_EQ(encode(true, Opcode::kBinary, 65536), h64k);
}

TEST(FrameHeader, EveryPrefixNeedsMore) {
  const uint32_t key = 0x11223344;
  for (uint64_t len : {0ull, 5ull, 125ull, 126ull, 65535ull, 65536ull, (1ull << 40)}) {
    for (const uint32_t* k : {static_cast<const uint32_t*>(nullptr), &key}) {
      const std::string h = encode(true, Opcode::kBinary, len, k);
      for (size_t i = 0; i < h.size(); ++i) {
        FrameHeader out;
        EXPECT_EQ(decode_header(bytes(h.substr(0, i)), &out), HeaderStatus::kNeedMore)
            << "len " << len << " prefix " << i;
      }
      FrameHeader out;
      ASSERT_EQ(decode_header(bytes(h), &out), HeaderStatus::kOk);
      EXPECT_EQ(out.payload_len, len);
      EXPECT_EQ(out.header_len, h.size());
      EXPECT_EQ(out.masked, k != nullptr);
      if (k) {
        EXPECT_EQ(out.mask_key, key);
      }
    }
  }
}

TEST(FrameHeader, Rejects64BitLengthWithTopBitSet) {
  // RFC 6455 §5.2: "the most significant bit MUST be 0".
  FrameHeader h;
  EXPECT_EQ(decode_header(bytes(hex({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})), &h),
            HeaderStatus::kBadLength);
  EXPECT_EQ(
      decode_header(bytes(hex({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})), &h),
      HeaderStatus::kOk);
  EXPECT_EQ(h.payload_len, 0x7FFFFFFFFFFFFFFFull);
}

TEST(FrameHeader, ReportsRsvBitsAndRawOpcode) {
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(hex({0xF3, 0x00})), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.rsv, 0x7);
  EXPECT_EQ(static_cast<int>(h.opcode), 3);
  ASSERT_EQ(decode_header(bytes(hex({0x4F, 0x00})), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.rsv, 0x4);
  EXPECT_FALSE(h.fin);
  EXPECT_EQ(static_cast<int>(h.opcode), 0xF);
}

TEST(FrameHeader, EncodesRfcExamples) {
  EXPECT_EQ(encode(true, Opcode::kText, 5) + kHello, kUnmaskedHello);
  const uint32_t key = test::kRfcKey;
  std::string masked = encode(true, Opcode::kText, 5, &key) + kHello;
  apply_mask(reinterpret_cast<std::byte*>(masked.data() + 6), 5, key);
  EXPECT_EQ(masked, kMaskedHello);
  EXPECT_EQ(encode(false, Opcode::kText, 3) + "Hel", kHel);
  EXPECT_EQ(encode(true, Opcode::kContinuation, 2) + "lo", kLo);
  EXPECT_EQ(encode(true, Opcode::kPing, 5) + kHello, kPingHello);
  EXPECT_EQ(encode(true, Opcode::kBinary, 0, nullptr, 0x4), hex({0xC2, 0x00}));
}

TEST(FrameHeader, EncodesShortestLengthForm) {
  EXPECT_EQ(encode(true, Opcode::kBinary, 125).size(), 2u);
  EXPECT_EQ(encode(true, Opcode::kBinary, 126).size(), 4u);
  EXPECT_EQ(encode(true, Opcode::kBinary, 65535).size(), 4u);
  EXPECT_EQ(encode(true, Opcode::kBinary, 65536).size(), 10u);
  const uint32_t key = 1;
  EXPECT_EQ(encode(true, Opcode::kBinary, 65536, &key).size(), kMaxHeaderBytes);
}

// The reference: RFC 6455 §5.3, one octet at a time.
void reference_mask(uint8_t* p, size_t n, uint32_t key, size_t off) {
  uint8_t k[4];
  std::memcpy(k, &key, 4);
  for (size_t i = 0; i < n; ++i) p[i] ^= k[(off + i) % 4];
}

TEST(ApplyMask, MatchesReferenceForEveryAlignmentLengthAndOffset) {
  alignas(16) uint8_t buf[256 + 16];
  alignas(16) uint8_t ref[256 + 16];
  const uint32_t key = 0xA1B2C3D4;
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len <= 200; ++len) {
      for (size_t off = 0; off < 4; ++off) {
        for (size_t i = 0; i < sizeof(buf); ++i)
          buf[i] = ref[i] = static_cast<uint8_t>(i * 7 + len);
        size_t next = apply_mask(reinterpret_cast<std::byte*>(buf + align), len, key, off);
        reference_mask(ref + align, len, key, off);
        ASSERT_EQ(std::memcmp(buf, ref, sizeof(buf)), 0) << align << " " << len << " " << off;
        ASSERT_EQ(next, (off + len) % 4);
      }
    }
  }
}

TEST(ApplyMask, PiecewiseEqualsWholeAndIsAnInvolution) {
  std::string data(1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  const uint32_t key = 0xDEADBEEF;
  std::string whole = data;
  apply_mask(reinterpret_cast<std::byte*>(whole.data()), whole.size(), key);
  EXPECT_NE(whole, data);
  for (size_t step : {1u, 3u, 5u, 7u, 13u, 64u, 333u}) {
    std::string piece = data;
    size_t off = 0;
    for (size_t pos = 0; pos < piece.size(); pos += step) {
      size_t n = std::min(step, piece.size() - pos);
      off = apply_mask(reinterpret_cast<std::byte*>(piece.data() + pos), n, key, off);
    }
    EXPECT_EQ(piece, whole) << "step " << step;
  }
  apply_mask(reinterpret_cast<std::byte*>(whole.data()), whole.size(), key);
  EXPECT_EQ(whole, data);
}

TEST(RandomMaskKey, KeysAreFreshAcrossManyCalls) {
  // Crossing the 256-key refill boundary several times; a repeat among 2000 random
  // 32-bit keys has probability ~5e-4, more than two repeats ~1e-10.
  std::set<uint32_t> keys;
  for (int i = 0; i < 2000; ++i) keys.insert(random_mask_key());
  EXPECT_GE(keys.size(), 1998u);
}

TEST(PrepareServerFrame, HeaderPlusPayloadUnmasked) {
  for (size_t len : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    std::string payload(len, 'x');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>('a' + i % 26);
    FrameRef f = prepare_server_frame(Opcode::kBinary, bytes(payload));
    ASSERT_TRUE(f);
    FrameHeader h;
    ASSERT_EQ(decode_header(f.bytes(), &h), HeaderStatus::kOk);
    EXPECT_TRUE(h.fin);
    EXPECT_FALSE(h.masked);
    EXPECT_EQ(h.opcode, Opcode::kBinary);
    EXPECT_EQ(h.payload_len, len);
    EXPECT_EQ(f.size(), h.header_len + len);
    EXPECT_EQ(str(f.bytes().subspan(h.header_len)), payload);
  }
  FrameRef hello = prepare_server_frame(Opcode::kText, bytes(kHello));
  EXPECT_EQ(str(hello.bytes()), kUnmaskedHello);
}

}  // namespace
}  // namespace relay::ws
