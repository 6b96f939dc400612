// SPDX-License-Identifier: MIT
// permessage-deflate's bytes (lib/ws/deflate.cpp) and their use in ws::Protocol: the
// RFC 7692 §7.2.3 examples byte for byte, round trips of many sizes, fragmented
// compressed messages fed in every chunking, the inflate cap (1009), RSV1 rules (1002),
// and what a connection keeps between messages.
#include "ws/deflate.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "ws/protocol.h"

namespace relay::ws {
namespace {

using namespace relay::ws::test;  // NOLINT: test helpers

constexpr uint8_t kCont = 0x0, kText = 0x1, kBin = 0x2, kPing = 0x9;
constexpr uint8_t kRsv1 = 0x4;

std::string deflate_str(std::string_view s, int level = 1, int bits = 15) {
  Deflater d(level, bits);
  std::span<const std::byte> z = d.compress(bytes(s));
  EXPECT_FALSE(z.empty());
  return str(z);
}

// Inflates a whole message (its tail added), or the status that stopped it.
InflateStatus inflate_str(Inflater& inf, std::string_view z, std::string* out, size_t cap) {
  ByteBuffer buf;
  InflateStatus st = inf.feed(bytes(z), &buf, cap);
  if (st == InflateStatus::kOk) st = inf.finish(&buf, cap);
  *out = str(buf.readable());
  return st;
}

std::string random_text(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  static const char kWords[][8] = {"alpha ", "beta ", "gamma ", "{\"a\":", "1,", "true}", "\n"};
  std::string s;
  while (s.size() < n) s += kWords[rng() % 7];
  s.resize(n);
  return s;
}

DeflateParams agreed(bool client_no_context = false) {
  DeflateParams p;
  p.enabled = true;
  p.server_no_context_takeover = true;
  p.client_no_context_takeover = client_no_context;
  return p;
}

TEST(Deflate, Rfc7692Examples) {
  Inflater inf(15);
  std::string out;
  // §7.2.3.1: "Hello" in one compressed frame.
  ASSERT_EQ(inflate_str(inf, hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), &out, 100),
            InflateStatus::kOk);
  EXPECT_EQ(out, "Hello");
  // §7.2.3.5: the same message again with the window taken over: 5 bytes.
  ASSERT_EQ(inflate_str(inf, hex({0xf2, 0x00, 0x11, 0x00, 0x00}), &out, 100), InflateStatus::kOk);
  EXPECT_EQ(out, "Hello");
  // §7.2.3.3: a stored (uncompressed) block with BFINAL set.
  Inflater fresh(15);
  ASSERT_EQ(
      inflate_str(fresh, hex({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}),
                  &out, 100),
      InflateStatus::kOk);
  EXPECT_EQ(out, "Hello");
  // §7.2.3.4: two deflate blocks in one message.
  fresh.reset();
  ASSERT_EQ(inflate_str(
                fresh,
                hex({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}),
                &out, 100),
            InflateStatus::kOk);
  EXPECT_EQ(out, "Hello");
  // §7.2.3.1 is also what zlib writes for "Hello".
  EXPECT_EQ(deflate_str("Hello"), hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(Deflate, RoundTripsAtEverySize) {
  for (size_t n : {0, 1, 2, 100, 4095, 4096, 65536, 1 << 20}) {
    for (int bits : {9, 12, 15}) {
      const std::string s = random_text(n, static_cast<uint32_t>(n));
      const std::string z = deflate_str(s, 6, bits);
      if (n > 1000) EXPECT_LT(z.size(), n / 2);  // text compresses
      Inflater inf(bits);
      std::string out;
      ASSERT_EQ(inflate_str(inf, z, &out, n), InflateStatus::kOk) << n << " " << bits;
      EXPECT_EQ(out, s);
    }
  }
  // Random bytes do not compress, but still round-trip; gathered parts equal one part.
  std::mt19937 rng(7);
  std::string rnd(10000, '\0');
  for (char& c : rnd) c = static_cast<char>(rng());
  Deflater d(1, 15);
  const std::span<const std::byte> parts[3] = {
      bytes(rnd).subspan(0, 10), {}, bytes(rnd).subspan(10)};
  const std::string z = str(d.compress(std::span<const std::span<const std::byte>>(parts)));
  EXPECT_EQ(z, deflate_str(rnd));
  Inflater inf(15);
  std::string out;
  ASSERT_EQ(inflate_str(inf, z, &out, rnd.size()), InflateStatus::kOk);
  EXPECT_EQ(out, rnd);
}

TEST(Deflate, InflateStopsAtTheCap) {
  // 1 MiB of zeros compresses to about a kilobyte; the cap is checked as it inflates.
  const std::string z = deflate_str(std::string(1 << 20, '\0'), 9);
  EXPECT_LT(z.size(), 2000u);
  Inflater inf(15);
  std::string out;
  EXPECT_EQ(inflate_str(inf, z, &out, (1 << 20) - 1), InflateStatus::kTooBig);
  EXPECT_EQ(out.size(), 1u << 20);  // one byte past the cap at most
  inf.reset();
  EXPECT_EQ(inflate_str(inf, z, &out, 1 << 20), InflateStatus::kOk);
  // Garbage is refused.
  Inflater bad(15);
  EXPECT_EQ(inflate_str(bad, hex({0xff, 0xff, 0xff, 0xff}), &out, 100), InflateStatus::kBadData);
}

// A protocol fed compressed client frames.
std::vector<Rec> server_run(const std::string& input, const std::vector<size_t>& sizes,
                            const DeflateParams& p, size_t max_message = 64u << 20) {
  Limits lim;
  lim.max_message_bytes = max_message;
  Protocol proto(Role::kServer, lim);
  proto.set_deflate(p);
  return run_chunks(proto, input, sizes);
}

TEST(DeflateProtocol, Rfc7692ExamplesAsFrames) {
  // §7.2.3.1 and §7.2.3.2 (fragmented), with a ping between the fragments.
  const std::string one =
      cframe(kText, hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, kRsv1);
  const std::string frag = cframe(kText, hex({0xf2, 0x48, 0xcd}), false, kRsv1) +
                           cframe(kPing, "p") + cframe(kCont, hex({0xc9, 0xc9, 0x07, 0x00}), true);
  const std::string input = one + frag + one;
  for_each_chunking(input.size(), [&](const std::vector<size_t>& sizes) {
    EXPECT_EQ(server_run(input, sizes, agreed()),
              (std::vector<Rec>{msg("Hello"), ping("p"), msg("Hello"), msg("Hello")}));
    EXPECT_EQ(server_run(input, sizes, agreed(true)),
              (std::vector<Rec>{msg("Hello"), ping("p"), msg("Hello"), msg("Hello")}));
  });
}

TEST(DeflateProtocol, FragmentedRoundTrips) {
  for (size_t n : {0, 1, 300, 70000}) {
    const std::string s = random_text(n, 3);
    const std::string z = deflate_str(s);
    // Split the compressed bytes over 1, 2 and 5 frames; text and binary; plain
    // messages between compressed ones.
    for (size_t pieces : {1, 2, 5}) {
      std::string input = cframe(kBin, "plain");
      const size_t step = z.size() / pieces + 1;
      for (size_t i = 0; i < pieces; ++i) {
        const std::string part = i * step < z.size() ? z.substr(i * step, step) : "";
        input += cframe(i == 0 ? kText : kCont, part, i + 1 == pieces, i == 0 ? kRsv1 : 0);
      }
      input += cframe(kBin, z, true, kRsv1) + cframe(kText, "plain");
      const std::vector<Rec> want{msg("plain", false), msg(s), msg(s, false), msg("plain")};
      EXPECT_EQ(server_run(input, {input.size()}, agreed()), want) << n << " " << pieces;
      EXPECT_EQ(server_run(input, std::vector<size_t>(input.size() / 7 + 1, 7), agreed(true)),
                want);
    }
  }
}

TEST(DeflateProtocol, Rsv1Rules) {
  const std::string hello = hex({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  // Not negotiated: RSV1 is a protocol error (RFC 6455 §5.2).
  Protocol plain(Role::kServer);
  EXPECT_EQ(run_chunks(plain, cframe(kText, hello, true, kRsv1), {100}),
            (std::vector<Rec>{error(1002)}));
  // RFC 7692 §6.1: not on control frames, not on continuations; RSV2/RSV3 never.
  EXPECT_EQ(server_run(cframe(kPing, "", true, kRsv1), {100}, agreed()),
            (std::vector<Rec>{error(1002)}));
  EXPECT_EQ(server_run(cframe(kText, "a", false, kRsv1) + cframe(kCont, "b", true, kRsv1), {100},
                       agreed()),
            (std::vector<Rec>{error(1002)}));
  EXPECT_EQ(
      server_run(cframe(kText, "a", false) + cframe(kCont, "b", true, kRsv1), {100}, agreed()),
      (std::vector<Rec>{error(1002)}));
  EXPECT_EQ(server_run(cframe(kText, "a", true, 0x2), {100}, agreed()),
            (std::vector<Rec>{error(1002)}));
  EXPECT_EQ(server_run(cframe(kText, "a", true, 0x1), {100}, agreed()),
            (std::vector<Rec>{error(1002)}));
  // Data that does not inflate: 1007; inflated text that is not UTF-8: 1007.
  EXPECT_EQ(server_run(cframe(kBin, hex({0xff, 0xff, 0xff}), true, kRsv1), {100}, agreed()),
            (std::vector<Rec>{error(1007)}));
  EXPECT_EQ(server_run(cframe(kText, deflate_str("\xff\xfe"), true, kRsv1), {100}, agreed()),
            (std::vector<Rec>{error(1007)}));
  // Uncompressed messages stay allowed (§6: RSV1 clear = not compressed).
  EXPECT_EQ(server_run(cframe(kText, "as is"), {100}, agreed()), (std::vector<Rec>{msg("as is")}));
}

TEST(DeflateProtocol, BombClosesWith1009BeforeMemoryGrows) {
  // 64 MiB of zeros, a few tens of KiB on the wire, against a 1 MiB message limit.
  Deflater d(9, 15);
  std::string zeros(1 << 20, '\0');
  std::vector<std::span<const std::byte>> parts(64, bytes(zeros));
  const std::string z = str(d.compress(std::span<const std::span<const std::byte>>(parts)));
  EXPECT_LT(z.size(), 100000u);
  Limits lim;
  lim.max_message_bytes = 1 << 20;
  Protocol p(Role::kServer, lim);
  p.set_deflate(agreed());
  const std::string input = cframe(kBin, z, true, kRsv1);
  EXPECT_EQ(run_chunks(p, input, {input.size()}), (std::vector<Rec>{error(1009)}));
  EXPECT_FALSE(p.holds_deflate_state());  // a failed connection keeps no zlib state
  // Exactly at the limit is fine.
  Protocol q(Role::kServer, lim);
  q.set_deflate(agreed());
  EXPECT_EQ(run_chunks(q, cframe(kBin, deflate_str(zeros), true, kRsv1), {1 << 20}),
            (std::vector<Rec>{msg(zeros, false)}));
}

TEST(DeflateProtocol, SendsCompressedWhenSmaller) {
  const std::string text = random_text(5000, 9);
  Protocol client(Role::kClient);
  client.set_deflate(agreed(), /*compress_sends=*/true);
  ASSERT_TRUE(client.send_message(true, bytes(text)));
  ASSERT_TRUE(client.send_message(false, bytes("ab")));  // would grow: sent plain
  const std::string wire = drain(client);
  // The server side inflates what the client compressed.
  Protocol server(Role::kServer);
  server.set_deflate(agreed());
  EXPECT_EQ(run_chunks(server, wire, {wire.size()}),
            (std::vector<Rec>{msg(text), msg("ab", false)}));
  EXPECT_LT(wire.size(), text.size() / 2);
  FrameHeader h;
  ASSERT_EQ(decode_header(bytes(wire), &h), HeaderStatus::kOk);
  EXPECT_EQ(h.rsv, kRsv1);
  // And the other way round, with server frames prepared once (the daemon's fan-out).
  Deflater d(1, 15);
  const FrameRef f = prepare_server_frame(Opcode::kText, d.compress(bytes(text)), kRsv1);
  Protocol c2(Role::kClient);
  c2.set_deflate(agreed());
  std::string sw(reinterpret_cast<const char*>(f.data()), f.size());
  EXPECT_EQ(run_chunks(c2, sw + sw, {sw.size() * 2}), (std::vector<Rec>{msg(text), msg(text)}));
}

TEST(DeflateProtocol, InflateStateIsFreedWithoutContextTakeover) {
  const std::string input = cframe(kText, deflate_str("Hello"), true, kRsv1);
  Protocol keep(Role::kServer);
  keep.set_deflate(agreed(false));
  EXPECT_FALSE(keep.holds_deflate_state());  // allocated at the first compressed message
  run_chunks(keep, input, {input.size()});
  EXPECT_TRUE(keep.holds_deflate_state());
  Protocol drop(Role::kServer);
  drop.set_deflate(agreed(true));
  EXPECT_EQ(run_chunks(drop, input + input, {input.size() * 2}),
            (std::vector<Rec>{msg("Hello"), msg("Hello")}));
  EXPECT_FALSE(drop.holds_deflate_state());
}

}  // namespace
}  // namespace relay::ws
