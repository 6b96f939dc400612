// SPDX-License-Identifier: MIT
// CompressedFrames (daemon/compressed_frames.cpp): one compressed twin per message and
// window size, shared by every subscriber that asks (the same FrameRef), counted once in
// the metrics; plain frames under min_bytes, when off, when it would not shrink, for an
// 8-bit window, and for any frame but the one being fanned out.
#include "compressed_frames.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/bytes.h"
#include "ws/deflate.h"
#include "ws/frame.h"

namespace relay::daemon {
namespace {

ws::DeflateParams params(uint8_t server_bits = 15) {
  ws::DeflateParams p;
  p.enabled = true;
  p.server_no_context_takeover = true;
  p.server_max_window_bits = server_bits;
  return p;
}

// The payload of a server frame, inflated when RSV1 is set.
std::string payload_of(const FrameRef& f, bool* compressed) {
  ws::FrameHeader h;
  EXPECT_EQ(ws::decode_header(f.bytes(), &h), ws::HeaderStatus::kOk);
  *compressed = h.rsv == 0x4;
  const auto body = f.bytes().subspan(h.header_len);
  if (!*compressed) return std::string(as_text(body));
  ws::Inflater inf(15);
  ByteBuffer out;
  EXPECT_EQ(inf.feed(body, &out, 1 << 20), ws::InflateStatus::kOk);
  EXPECT_EQ(inf.finish(&out, 1 << 20), ws::InflateStatus::kOk);
  return std::string(as_text(out.readable()));
}

TEST(CompressedFrames, OnceAndShared) {
  Stats stats;
  CompressedFrames z(stats);
  const std::string text(2000, 'x');
  const FrameRef plain = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
  z.begin(plain, ws::Opcode::kText, as_bytes(text), CompressionOptions{true, 64, 1});
  const FrameRef& a = z.frame_for(plain, params());
  const FrameRef& b = z.frame_for(plain, params());
  EXPECT_EQ(a.data(), b.data());  // the same frame for both subscribers
  EXPECT_NE(a.data(), plain.data());
  EXPECT_LT(a.size(), plain.size() / 10);
  bool compressed = false;
  EXPECT_EQ(payload_of(a, &compressed), text);
  EXPECT_TRUE(compressed);
  EXPECT_EQ(stats.compression_bytes_in, text.size());    // compressed once
  EXPECT_EQ(stats.compression_bytes_out, a.size() - 2);  // the frame less its 2-byte header
  // Another window size is another twin; an 8-bit window gets the plain frame.
  const FrameRef& c = z.frame_for(plain, params(10));
  EXPECT_NE(c.data(), a.data());
  EXPECT_EQ(payload_of(c, &compressed), text);
  EXPECT_EQ(z.frame_for(plain, params(8)).data(), plain.data());
  EXPECT_EQ(stats.compression_bytes_in, 2 * text.size());
  // A twin's queue reference outlives end(); afterwards only plain frames.
  const FrameRef queued = a;
  z.end();
  EXPECT_EQ(z.frame_for(plain, params()).data(), plain.data());
  EXPECT_EQ(payload_of(queued, &compressed), text);
}

TEST(CompressedFrames, PlainWhenItDoesNotPay) {
  Stats stats;
  CompressedFrames z(stats);
  const std::string small(63, 'x');
  const FrameRef a = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(small));
  z.begin(a, ws::Opcode::kText, as_bytes(small), CompressionOptions{true, 64, 1});
  EXPECT_EQ(z.frame_for(a, params()).data(), a.data());  // under min_bytes
  z.end();
  const std::string text(500, 'y');
  const FrameRef b = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
  z.begin(b, ws::Opcode::kText, as_bytes(text), CompressionOptions{false, 0, 1});
  EXPECT_EQ(z.frame_for(b, params()).data(), b.data());  // off
  z.end();
  std::mt19937 rng(1);
  std::string noise(500, '\0');
  for (char& ch : noise) ch = static_cast<char>(rng());
  const FrameRef c = ws::prepare_server_frame(ws::Opcode::kBinary, as_bytes(noise));
  z.begin(c, ws::Opcode::kBinary, as_bytes(noise), CompressionOptions{true, 0, 9});
  EXPECT_EQ(z.frame_for(c, params()).data(), c.data());  // would grow
  EXPECT_EQ(z.frame_for(b, params()).data(), b.data());  // not the frame being fanned out
  z.end();
  EXPECT_EQ(stats.compression_bytes_in, 0u);
}

}  // namespace
}  // namespace relay::daemon
