// SPDX-License-Identifier: MIT
// libFuzzer target: the frame decoder inside ws::Protocol, in server and client role.
// Input layout: byte 0 picks the chunking and the limits, the rest is the byte stream
// from the other side. Chunk sizes come from byte 0, in the spirit of uWebSockets'
// fuzzing/helpers.h makeChunked. Oracles (abort on violation):
//   - feeding in chunks gives exactly the events of feeding everything at once;
//   - text messages and close reasons are valid UTF-8, control payloads <= 125 bytes;
//   - after kError or kClose only kNeedMore comes back;
//   - everything we queue for output (pongs, echoes, close frames) is itself valid
//     RFC 6455: a Protocol of the other role reads it without an error.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../support/protocol_output.h"
#include "fuzz_check.h"
#include "ws/protocol.h"

namespace {

using relay::ws::drain;
using relay::ws::Event;
using relay::ws::EventKind;
using relay::ws::Limits;
using relay::ws::Protocol;
using relay::ws::Role;

struct Rec {
  EventKind kind;
  bool text;
  uint16_t code;
  std::string payload;
  bool operator==(const Rec&) const = default;
};

std::string_view text_of(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::span<const std::byte> as_span(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const std::byte*>(p), n};
}

// Polls every event out of `p`, checking invariants and acting as an echo endpoint
// (messages echoed, the peer's close answered) so the send side is exercised too.
void poll_all(Protocol& p, std::vector<Rec>* log, bool* ended) {
  for (int guard = 0; guard < 100000; ++guard) {
    Event ev = p.poll_event();
    if (ev.kind == EventKind::kNeedMore) return;
    FUZZ_CHECK(!*ended);  // nothing after kError / kClose
    Rec r{ev.kind, ev.text, ev.code, std::string(text_of(ev.payload))};
    switch (ev.kind) {
      case EventKind::kMessage:
        if (ev.text) FUZZ_CHECK(relay::ws::is_valid_utf8(ev.payload));
        FUZZ_CHECK(ev.payload.size() <= p.limits().max_message_bytes);
        // Echo it: a valid text message must be accepted for sending.
        FUZZ_CHECK(static_cast<bool>(p.send_message(ev.text, ev.payload)) || p.close_sent());
        break;
      case EventKind::kPing:
      case EventKind::kPong:
        FUZZ_CHECK(ev.payload.size() <= 125);
        break;
      case EventKind::kClose:
        FUZZ_CHECK(relay::ws::is_valid_utf8(ev.payload));
        FUZZ_CHECK(ev.code == 0 || relay::ws::is_valid_wire_code(ev.code));
        FUZZ_CHECK(p.close_received());
        if (!p.close_sent())
          FUZZ_CHECK(static_cast<bool>(p.send_close(ev.code, text_of(ev.payload))));
        FUZZ_CHECK(p.state() == relay::ws::ProtocolState::kDone);
        *ended = true;
        break;
      case EventKind::kError:
        FUZZ_CHECK(ev.code == 1002 || ev.code == 1007 || ev.code == 1009);
        FUZZ_CHECK(p.state() == relay::ws::ProtocolState::kFailed);
        FUZZ_CHECK(p.close_sent());
        r.payload.clear();
        *ended = true;
        break;
      case EventKind::kNeedMore:
        break;
    }
    log->push_back(std::move(r));
  }
  FUZZ_CHECK(false && "poll_event loops");
}

Limits limits_for(uint8_t b) {
  Limits lim;
  if (b & 0x80) {  // small limits, to reach the 1009 paths
    lim.max_message_bytes = 64 + (b & 0x0F) * 16;
    lim.max_fragments = 1 + (b & 0x07);
  }
  return lim;
}

// Our output must be valid for the other side.
void check_output(Role role, const std::string& wire) {
  if (wire.empty()) return;
  Protocol peer(role == Role::kServer ? Role::kClient : Role::kServer);
  peer.feed(as_span(reinterpret_cast<const uint8_t*>(wire.data()), wire.size()));
  for (int guard = 0; guard < 100000; ++guard) {
    Event ev = peer.poll_event();
    FUZZ_CHECK(ev.kind != EventKind::kError);
    if (ev.kind == EventKind::kNeedMore || ev.kind == EventKind::kClose) break;
  }
  FUZZ_CHECK(!peer.has_buffered_input() || peer.close_received());
}

void run_role(Role role, uint8_t mode, const uint8_t* data, size_t size) {
  const Limits lim = limits_for(mode);
  // Reference run: everything at once.
  Protocol whole(role, lim);
  std::vector<Rec> expected;
  bool ended = false;
  whole.feed(as_span(data, size));
  poll_all(whole, &expected, &ended);
  check_output(role, drain(whole));

  // Chunked run: sizes from a tiny generator seeded by the mode byte; mode 0 = one byte
  // at a time. Alternate feed() and input_space()/commit_input().
  Protocol chunked(role, lim);
  std::vector<Rec> got;
  ended = false;
  uint32_t x = mode * 2654435761u + 1;
  const uint32_t max_chunk = (mode & 0x3F) + 1;
  size_t i = 0;
  for (int n = 0; i < size; ++n) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    size_t c = mode == 0 ? 1 : 1 + x % max_chunk;
    if (c > size - i) c = size - i;
    if (n % 2 == 0) {
      chunked.feed(as_span(data + i, c));
    } else {
      auto space = chunked.input_space(c);
      FUZZ_CHECK(space.size() >= c);
      std::memcpy(space.data(), data + i, c);
      chunked.commit_input(c);
    }
    i += c;
    poll_all(chunked, &got, &ended);
  }
  FUZZ_CHECK(got == expected);
  FUZZ_CHECK(chunked.state() == whole.state());
  check_output(role, drain(chunked));
  chunked.shrink_idle();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  run_role(Role::kServer, mode, data + 1, size - 1);
  run_role(Role::kClient, mode, data + 1, size - 1);
  return 0;
}
