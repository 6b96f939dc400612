// SPDX-License-Identifier: MIT
// ws::Protocol (lib/ws/protocol.cpp): every input is fed whole, split at every byte
// and one byte at a time, and must give the same events, the same output frames and
// the same final state. Covers the RFC 6455 §5.7 examples and each strictness rule the
// engine enforces (1002 / 1007 / 1009, masking by role, close codes, close handshake).
#include "ws/protocol.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"

namespace relay::ws {
namespace {

using namespace relay::ws::test;  // NOLINT: test helpers

constexpr uint8_t kCont = 0x0, kText = 0x1, kBin = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA;

struct Out {  // an output frame, key left out (it is random for clients)
  uint8_t opcode;
  std::string payload;
  bool fin = true;
  bool operator==(const Out&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Out& o) {
  return os << "Out(" << int(o.opcode) << ", \"" << o.payload.substr(0, 40) << "\", " << o.fin
            << ")";
}

struct Outcome {
  std::vector<Rec> events;
  std::vector<Out> out;
  ProtocolState state;
};

Outcome run(Role role, std::string_view input, const std::vector<size_t>& sizes,
            const Limits& lim) {
  Protocol p(role, lim);
  Outcome o;
  o.events = run_chunks(p, input, sizes);
  for (const OutFrame& f : decode_frames(drain(p))) {
    // RFC 6455 §5.1: clients mask every frame, servers none.
    EXPECT_EQ(f.masked, role == Role::kClient);
    o.out.push_back({f.opcode, f.payload, f.fin});
  }
  o.state = p.state();
  // Once input has ended nothing more comes out, whatever is fed.
  if (o.state == ProtocolState::kFailed || p.close_received()) {
    p.feed(bytes(role == Role::kServer ? cframe(kText, "more") : sframe(kText, "more")));
    EXPECT_EQ(p.poll_event().kind, EventKind::kNeedMore);
    EXPECT_FALSE(p.has_buffered_input());
  }
  return o;
}

// The core check: the expected outcome for the whole input, and the same for every
// chunking of it.
void expect_all(Role role, const std::string& input, const std::vector<Rec>& events,
                const std::vector<Out>& out, ProtocolState state, const Limits& lim = {}) {
  for_each_chunking(input.size(), [&](const std::vector<size_t>& sizes) {
    Outcome o = run(role, input, sizes, lim);
    ASSERT_EQ(o.events, events) << "chunks: " << sizes.size() << " first " << sizes[0];
    ASSERT_EQ(o.out, out) << "chunks: " << sizes.size() << " first " << sizes[0];
    ASSERT_EQ(o.state, state) << "chunks: " << sizes.size() << " first " << sizes[0];
  });
}

// The reason text the engine sends with each failure's close frame, written out here
// (not taken from the engine) so a changed reason fails the test.
std::string expected_reason(uint16_t code) {
  switch (code) {
    case 1002:
      return "protocol error";
    case 1007:
      return "invalid UTF-8";
    case 1009:
      return "message too big";
  }
  ADD_FAILURE() << "no expected reason for close code " << code;
  return {};
}

// A protocol error: one kError event, one close frame with that code, kFailed.
void expect_failure(Role role, const std::string& input, uint16_t code,
                    std::vector<Rec> before = {}, const Limits& lim = {}) {
  before.push_back(error(code));
  std::vector<Out> out;
  for (const Rec& r : before)
    if (r.kind == EventKind::kPing) out.push_back({kPong, r.payload});
  out.push_back({kClose, close_payload(code, expected_reason(code))});
  expect_all(role, input, before, out, ProtocolState::kFailed, lim);
}

// ------------------------------------------------------------ RFC 6455 §5.7 examples

TEST(ProtocolRfc, MaskedHelloToServer) {
  const std::string masked =
      hex({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  EXPECT_EQ(cframe(kText, "Hello"), masked);
  expect_all(Role::kServer, masked, {msg("Hello")}, {}, ProtocolState::kOpen);
}

TEST(ProtocolRfc, UnmaskedHelloToClient) {
  expect_all(Role::kClient, hex({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), {msg("Hello")}, {},
             ProtocolState::kOpen);
}

TEST(ProtocolRfc, FragmentedHelToClientAndMaskedToServer) {
  const std::string frags = hex({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  expect_all(Role::kClient, frags, {msg("Hello")}, {}, ProtocolState::kOpen);
  expect_all(Role::kServer, cframe(kText, "Hel", false) + cframe(kCont, "lo"), {msg("Hello")}, {},
             ProtocolState::kOpen);
}

TEST(ProtocolRfc, PingIsAnsweredWithPong) {
  // Unmasked ping "Hello" (§5.7) to a client: the pong goes back masked (§5.5.3).
  expect_all(Role::kClient, hex({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), {ping("Hello")},
             {{kPong, "Hello"}}, ProtocolState::kOpen);
  expect_all(Role::kServer, cframe(kPing, "Hello"), {ping("Hello")}, {{kPong, "Hello"}},
             ProtocolState::kOpen);
  expect_all(Role::kServer, cframe(kPing, ""), {ping("")}, {{kPong, ""}}, ProtocolState::kOpen);
  // The masked pong of §5.7 is an event and needs no answer.
  expect_all(Role::kServer, hex({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
             {pong("Hello")}, {}, ProtocolState::kOpen);
}

TEST(ProtocolRfc, Lengths256And64KiB) {
  for (size_t len : {125u, 126u, 256u, 65535u, 65536u}) {
    std::string payload(len, '\0');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i * 13 + 7);
    expect_all(Role::kClient, sframe(kBin, payload), {msg(payload, false)}, {},
               ProtocolState::kOpen);
    expect_all(Role::kServer, cframe(kBin, payload), {msg(payload, false)}, {},
               ProtocolState::kOpen);
  }
  // The §5.7 256-byte header exactly.
  EXPECT_EQ(sframe(kBin, std::string(256, 'x')).substr(0, 4), hex({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(sframe(kBin, std::string(65536, 'x')).substr(0, 10),
            hex({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0, 0}));
}

// -------------------------------------------------- fragments and interleaved control

TEST(ProtocolFragments, ControlFramesInterleaved) {
  const std::string in = cframe(kText, "frag1 ", false) + cframe(kPing, "p1") +
                         cframe(kCont, "frag2 ", false) + cframe(kPong, "p2") + cframe(kPing, "") +
                         cframe(kCont, "frag3") + cframe(kBin, "next");
  expect_all(Role::kServer, in,
             {ping("p1"), pong("p2"), ping(""), msg("frag1 frag2 frag3"), msg("next", false)},
             {{kPong, "p1"}, {kPong, ""}}, ProtocolState::kOpen);
}

TEST(ProtocolFragments, EmptyFragmentsAndManyMessages) {
  std::string in = cframe(kBin, "", false) + cframe(kCont, "", false) + cframe(kCont, "");
  in +=
      cframe(kText, "") + cframe(kText, "a", false) + cframe(kCont, "", false) + cframe(kCont, "b");
  expect_all(Role::kServer, in, {msg("", false), msg(""), msg("ab")}, {}, ProtocolState::kOpen);
}

TEST(ProtocolFragments, Utf8SequenceSplitAcrossFragmentsIsValid) {
  const std::string euro = "\xe2\x82\xac";  // €
  const std::string in = cframe(kText, "a" + euro.substr(0, 1), false) +
                         cframe(kCont, euro.substr(1, 1), false) +
                         cframe(kCont, euro.substr(2) + "z");
  expect_all(Role::kServer, in, {msg("a" + euro + "z")}, {}, ProtocolState::kOpen);
}

TEST(ProtocolFragments, ZeroCopyForSingleFrameMessages) {
  Protocol p(Role::kServer);
  const std::string frame = cframe(kBin, std::string(1000, 'z'));
  auto space = p.input_space(frame.size());
  std::memcpy(space.data(), frame.data(), frame.size());
  p.commit_input(frame.size());
  Event ev = p.poll_event();
  ASSERT_EQ(ev.kind, EventKind::kMessage);
  // The payload is the input buffer itself, just past the 8-byte header, unmasked in place.
  EXPECT_EQ(ev.payload.data(), space.data() + 8);
  EXPECT_EQ(str(ev.payload), std::string(1000, 'z'));
  EXPECT_EQ(p.poll_event().kind, EventKind::kNeedMore);
  EXPECT_FALSE(p.has_buffered_input());
  p.shrink_idle();
}

// ------------------------------------------------------------------ 1002 protocol errors

TEST(ProtocolErrors, ReservedBits) {
  for (uint8_t rsv : {1, 2, 4, 7}) {
    expect_failure(Role::kServer, cframe(kText, "x", true, rsv), 1002);
    expect_failure(Role::kClient, sframe(kBin, "x", true, rsv), 1002);
    expect_failure(Role::kServer, cframe(kPing, "x", true, rsv), 1002);
  }
}

TEST(ProtocolErrors, ReservedOpcodes) {
  for (uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expect_failure(Role::kServer, cframe(op, "x"), 1002);
    expect_failure(Role::kClient, sframe(op, ""), 1002);
  }
}

TEST(ProtocolErrors, FragmentedOrLongControlFrames) {
  expect_failure(Role::kServer, cframe(kPing, "x", false), 1002);
  expect_failure(Role::kServer, cframe(kPong, "x", false), 1002);
  expect_failure(Role::kServer, cframe(kClose, close_payload(1000), false), 1002);
  expect_failure(Role::kServer, cframe(kPing, std::string(126, 'p')), 1002);
  expect_failure(Role::kServer, cframe(kClose, close_payload(1000, std::string(124, 'r'))), 1002);
  // 125 bytes is the maximum and fine.
  const std::string p125(125, 'p');
  expect_all(Role::kServer, cframe(kPing, p125), {ping(p125)}, {{kPong, p125}},
             ProtocolState::kOpen);
}

TEST(ProtocolErrors, ContinuationWithoutStart) {
  expect_failure(Role::kServer, cframe(kCont, "x"), 1002);
  expect_failure(Role::kServer, cframe(kCont, "x", false), 1002);
  // ... also right after a finished fragmented message.
  expect_failure(Role::kServer, cframe(kText, "a", false) + cframe(kCont, "b") + cframe(kCont, "c"),
                 1002, {msg("ab")});
}

TEST(ProtocolErrors, NewDataFrameInsideFragmentedMessage) {
  expect_failure(Role::kServer, cframe(kText, "a", false) + cframe(kText, "b"), 1002);
  expect_failure(Role::kServer, cframe(kBin, "a", false) + cframe(kPing, "p") + cframe(kBin, "b"),
                 1002, {ping("p")});
}

TEST(ProtocolErrors, CloseWithOneBytePayload) {
  expect_failure(Role::kServer, cframe(kClose, "\x03"), 1002);
  expect_failure(Role::kClient, sframe(kClose, "\x03"), 1002);
}

TEST(ProtocolErrors, UnmaskedClientFrameRejectedByServer) {
  expect_failure(Role::kServer, sframe(kText, "Hello"), 1002);
  expect_failure(Role::kServer, sframe(kPing, ""), 1002);
  expect_failure(Role::kServer, cframe(kText, "a", false) + sframe(kCont, "b"), 1002);
}

TEST(ProtocolErrors, MaskedServerFrameRejectedByClient) {
  expect_failure(Role::kClient, cframe(kText, "Hello"), 1002);
  expect_failure(Role::kClient, cframe(kClose, close_payload(1000)), 1002);
}

TEST(ProtocolErrors, SixtyFourBitLengthWithTopBitSet) {
  expect_failure(Role::kClient, hex({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}), 1002);
}

TEST(ProtocolErrors, ErrorIsReportedOnceThenNeedMore) {
  Protocol p(Role::kServer);
  p.feed(bytes(sframe(kText, "x") + cframe(kText, "y")));
  Event ev = p.poll_event();
  EXPECT_EQ(ev.kind, EventKind::kError);
  EXPECT_EQ(ev.code, 1002);
  EXPECT_EQ(str(ev.payload), "protocol error");
  EXPECT_EQ(p.failure_code(), 1002);
  EXPECT_TRUE(p.close_sent());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p.poll_event().kind, EventKind::kNeedMore);
  // Sending is over too: our close frame went out.
  EXPECT_EQ(p.send_message(false, bytes("z")).error(), Errc::kPipe);
  EXPECT_EQ(p.send_close(1000, "").error(), Errc::kPipe);
}

// --------------------------------------------------------------------- close codes

TEST(ProtocolClose, ReceivedCodesValidatedOverTheWholeRange) {
  for (unsigned code = 0; code <= 0xFFFF; ++code) {
    Protocol p(Role::kServer);
    p.feed(bytes(cframe(kClose, close_payload(static_cast<uint16_t>(code), "bye"))));
    Event ev = p.poll_event();
    const bool valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                       (code >= 3000 && code <= 4999);
    if (valid) {
      ASSERT_EQ(ev.kind, EventKind::kClose) << code;
      ASSERT_EQ(ev.code, code);
      ASSERT_EQ(str(ev.payload), "bye");
      ASSERT_EQ(p.state(), ProtocolState::kPeerClosed);
    } else {
      ASSERT_EQ(ev.kind, EventKind::kError) << code;
      ASSERT_EQ(ev.code, 1002) << code;
    }
  }
}

TEST(ProtocolClose, ValidAndInvalidCodesAtEverySplit) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999})
    expect_all(Role::kServer, cframe(kClose, close_payload(code, "why")), {closed(code, "why")}, {},
               ProtocolState::kPeerClosed);
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    expect_failure(Role::kServer, cframe(kClose, close_payload(code)), 1002);
  expect_all(Role::kClient, sframe(kClose, ""), {closed(0)}, {}, ProtocolState::kPeerClosed);
}

TEST(ProtocolClose, PeerClosesFirstThenWeReply) {
  Protocol p(Role::kServer);
  p.feed(bytes(cframe(kText, "last") + cframe(kClose, close_payload(1001, "going")) +
               cframe(kText, "after")));
  EXPECT_EQ(str(p.poll_event().payload), "last");
  Event ev = p.poll_event();
  ASSERT_EQ(ev.kind, EventKind::kClose);
  EXPECT_EQ(ev.code, 1001);
  EXPECT_EQ(p.peer_close_code(), 1001);
  EXPECT_EQ(p.peer_close_reason(), "going");
  EXPECT_TRUE(p.close_received());
  EXPECT_EQ(p.state(), ProtocolState::kPeerClosed);
  EXPECT_EQ(p.poll_event().kind, EventKind::kNeedMore);  // "after" is never read
  // kPeerClosed still allows sending, then the close reply finishes the handshake.
  EXPECT_TRUE(p.send_message(true, bytes("still here")));
  ASSERT_TRUE(p.send_close(1001, "going"));
  EXPECT_EQ(p.state(), ProtocolState::kDone);
  auto out = decode_frames(drain(p));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].opcode, kClose);
  EXPECT_EQ(out[1].payload, close_payload(1001, "going"));
}

TEST(ProtocolClose, WeCloseFirstThenAwaitThePeer) {
  Protocol p(Role::kClient);
  ASSERT_TRUE(p.send_close(1000, "done"));
  EXPECT_EQ(p.state(), ProtocolState::kClosing);
  EXPECT_EQ(p.send_close(1000, "").error(), Errc::kPipe);
  EXPECT_EQ(p.send_message(true, bytes("x")).error(), Errc::kPipe);
  EXPECT_EQ(p.send_ping({}).error(), Errc::kPipe);
  drain(p);
  // Data still arrives until the peer's close; pings are no longer answered (§5.5.1).
  p.feed(bytes(sframe(kText, "late") + sframe(kPing, "p") + sframe(kClose, close_payload(1000))));
  EXPECT_EQ(str(p.poll_event().payload), "late");
  EXPECT_EQ(p.poll_event().kind, EventKind::kPing);
  Event ev = p.poll_event();
  EXPECT_EQ(ev.kind, EventKind::kClose);
  EXPECT_EQ(p.state(), ProtocolState::kDone);
  EXPECT_FALSE(p.has_pending_output());
}

TEST(ProtocolClose, FailureAfterOurCloseSendsNoSecondClose) {
  Protocol p(Role::kServer);
  ASSERT_TRUE(p.send_close(1000, ""));
  drain(p);
  p.feed(bytes(cframe(0x3, "")));
  EXPECT_EQ(p.poll_event().kind, EventKind::kError);
  EXPECT_EQ(p.state(), ProtocolState::kFailed);
  EXPECT_FALSE(p.has_pending_output());
}

// ------------------------------------------------------------------------ 1007 UTF-8

TEST(ProtocolUtf8, InvalidTextAndCloseReason) {
  expect_failure(Role::kServer, cframe(kText, "ab\xff"), 1007);
  expect_failure(Role::kServer, cframe(kText, "\xed\xa0\x80"), 1007);  // surrogate
  expect_failure(Role::kServer, cframe(kText, "a\xe2\x82"), 1007);     // truncated
  expect_failure(Role::kServer, cframe(kClose, close_payload(1000, "\xc0\xaf")), 1007);
  expect_failure(Role::kClient, sframe(kClose, close_payload(1000, "ok\xf8")), 1007);
  // Binary messages are not checked.
  expect_all(Role::kServer, cframe(kBin, "\xff\xfe"), {msg("\xff\xfe", false)}, {},
             ProtocolState::kOpen);
}

TEST(ProtocolUtf8, InvalidAcrossFragments) {
  // The last fragment ends inside a sequence.
  expect_failure(Role::kServer, cframe(kText, "a", false) + cframe(kCont, "\xe2\x82"), 1007);
  // An invalid byte in a middle fragment, interleaved with a ping.
  expect_failure(Role::kServer,
                 cframe(kText, "ok", false) + cframe(kPing, "p") +
                     cframe(kCont, "\xe2\x28", false) + cframe(kCont, "never"),
                 1007, {ping("p")});
}

TEST(ProtocolUtf8, FailsFastBeforeTheMessageEnds) {
  // Only the first fragment arrives: it is already impossible UTF-8.
  expect_failure(Role::kServer, cframe(kText, "valid \xf4\x90", false), 1007);
  // Only part of one big text frame arrives: refused at the bad byte, not at the end.
  const std::string frame = cframe(kText, "abc\xc0" + std::string(5000, 'x'));
  expect_failure(Role::kServer, frame.substr(0, 8 + 10), 1007);
}

// -------------------------------------------------------------------- 1009 too big

TEST(ProtocolLimits, SingleFrameOverLimitRefusedFromItsHeader) {
  Limits lim;
  lim.max_message_bytes = 1000;
  const std::string ok(1000, 'a');
  expect_all(Role::kServer, cframe(kText, ok), {msg(ok)}, {}, ProtocolState::kOpen, lim);
  const std::string big = cframe(kText, std::string(1001, 'a'));
  expect_failure(Role::kServer, big, 1009, {}, lim);
  // The header alone is enough: no payload byte needs to arrive.
  expect_failure(Role::kServer, big.substr(0, 8), 1009, {}, lim);
  // A huge 64-bit length is refused without waiting for it.
  expect_failure(Role::kClient, hex({0x82, 0x7F, 0, 0, 0x10, 0, 0, 0, 0, 0}), 1009, {}, lim);
}

TEST(ProtocolLimits, FragmentedMessageOverLimit) {
  Limits lim;
  lim.max_message_bytes = 10;
  expect_all(Role::kServer, cframe(kBin, "12345", false) + cframe(kCont, "67890"),
             {msg("1234567890", false)}, {}, ProtocolState::kOpen, lim);
  const std::string in =
      cframe(kBin, "12345", false) + cframe(kPing, "p") + cframe(kCont, "678901");
  expect_failure(Role::kServer, in, 1009, {ping("p")}, lim);
}

TEST(ProtocolLimits, TooManyFragments) {
  Limits lim;
  lim.max_fragments = 3;
  expect_all(Role::kServer,
             cframe(kText, "a", false) + cframe(kCont, "b", false) + cframe(kCont, "c"),
             {msg("abc")}, {}, ProtocolState::kOpen, lim);
  expect_failure(Role::kServer,
                 cframe(kText, "a", false) + cframe(kCont, "b", false) + cframe(kCont, "c", false) +
                     cframe(kCont, "d"),
                 1009, {}, lim);
}

// --------------------------------------------------------------------------- sending

TEST(ProtocolSend, ServerFramesAreTheRfcBytes) {
  Protocol p(Role::kServer);
  ASSERT_TRUE(p.send_message(true, bytes("Hello")));
  ASSERT_TRUE(p.send_ping(bytes("Hello")));
  EXPECT_EQ(drain(p), hex({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x89, 0x05, 0x48, 0x65, 0x6c,
                           0x6c, 0x6f}));
  FrameRef f = prepare_server_frame(Opcode::kBinary, bytes("shared"));
  ASSERT_TRUE(p.send_prepared(f));
  EXPECT_EQ(f.use_count(), 2u);  // queued by reference, not copied
  EXPECT_EQ(drain(p), sframe(kBin, "shared"));
}

TEST(ProtocolSend, ClientFramesAreMaskedWithFreshKeys) {
  Protocol p(Role::kClient);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(p.send_message(false, bytes("same payload")));
  auto frames = decode_frames(drain(p));
  ASSERT_EQ(frames.size(), 8u);
  std::set<uint32_t> keys;
  for (const auto& f : frames) {
    EXPECT_TRUE(f.masked);
    EXPECT_EQ(f.payload, "same payload");
    keys.insert(f.key);
  }
  EXPECT_GE(keys.size(), 7u);  // a repeat among 8 random keys: p ~ 7e-9
  FrameRef f = prepare_server_frame(Opcode::kBinary, bytes("x"));
  EXPECT_EQ(p.send_prepared(f).error(), Errc::kInvalid);
}

TEST(ProtocolSend, BadArguments) {
  Protocol p(Role::kServer);
  EXPECT_EQ(p.send_message(true, bytes("bad \xff")).error(), Errc::kInvalid);
  EXPECT_EQ(p.send_message(true, bytes("cut \xe2\x82")).error(), Errc::kInvalid);
  EXPECT_EQ(p.send_ping(bytes(std::string(126, 'x'))).error(), Errc::kInvalid);
  for (uint16_t code : {1, 999, 1004, 1005, 1006, 1015, 2999, 5000})
    EXPECT_EQ(p.send_close(code, "").error(), Errc::kInvalid) << code;
  EXPECT_EQ(p.send_close(0, "reason without code").error(), Errc::kInvalid);
  EXPECT_EQ(p.send_close(1000, std::string(124, 'r')).error(), Errc::kInvalid);
  EXPECT_EQ(p.send_close(1000, "\xc0\xaf").error(), Errc::kInvalid);
  EXPECT_FALSE(p.has_pending_output());
  EXPECT_EQ(p.state(), ProtocolState::kOpen);
  ASSERT_TRUE(p.send_close(4000, std::string(123, 'r')));
  EXPECT_EQ(decode_frames(drain(p))[0].payload, close_payload(4000, std::string(123, 'r')));
  Protocol q(Role::kClient);
  ASSERT_TRUE(q.send_close(0, ""));
  auto frames = decode_frames(drain(q));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "");
}

TEST(ProtocolSend, RandomRoundTripBothWays) {
  std::mt19937 rng(12345);
  Limits lim;
  Protocol client(Role::kClient, lim), server(Role::kServer, lim);
  for (int round = 0; round < 200; ++round) {
    const size_t len = rng() % 3 == 0 ? rng() % 70000 : rng() % 200;
    std::string payload(len, '\0');
    for (char& c : payload) c = static_cast<char>('a' + rng() % 26);
    Protocol& from = round % 2 ? client : server;
    Protocol& to = round % 2 ? server : client;
    ASSERT_TRUE(from.send_message(true, bytes(payload)));
    std::vector<Rec> want = {msg(payload)};
    if (rng() % 4 == 0) {
      ASSERT_TRUE(from.send_ping(bytes("k")));
      want.push_back(ping("k"));
    }
    const std::string wire = drain(from);
    std::vector<Rec> got;
    for (size_t pos = 0; pos < wire.size();) {
      const size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 9000);
      to.feed(bytes(std::string_view(wire).substr(pos, n)));
      pos += n;
      poll_all(to, &got);
    }
    ASSERT_EQ(got, want) << "round " << round;
    drain(to);  // pongs
  }
}

}  // namespace
}  // namespace relay::ws
