// SPDX-License-Identifier: MIT
// libFuzzer target: permessage-deflate's inflate (lib/ws/deflate.cpp) and compressed
// messages through ws::Protocol. Input: byte 0 = options (bit 0: text, bit 1: client
// takes no context over, bits 2-3: message limit 16 B..64 KiB, bits 4-7: frame split),
// the rest = a compressed message payload. Oracles (abort on violation):
//   - the inflated output never passes the cap, and inflating in pieces (any split)
//     gives the same status and bytes as inflating at once;
//   - the Protocol gives the same events whole and one byte at a time; a message it
//     returns is within the limit, and deflated again (our Deflater) inflates back to it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../support/protocol_output.h"
#include "fuzz_check.h"
#include "ws/deflate.h"
#include "ws/frame.h"
#include "ws/protocol.h"

namespace {

using namespace relay;      // NOLINT: fuzz harness
using namespace relay::ws;  // NOLINT: fuzz harness

struct Inflated {
  InflateStatus status;
  std::string out;
};

Inflated inflate_pieces(std::span<const std::byte> z, size_t cap, size_t piece) {
  Inflater inf(15);
  ByteBuffer buf;
  InflateStatus st = InflateStatus::kOk;
  for (size_t i = 0; i < z.size() && st == InflateStatus::kOk; i += piece)
    st = inf.feed(z.subspan(i, std::min(piece, z.size() - i)), &buf, cap);
  if (st == InflateStatus::kOk) st = inf.finish(&buf, cap);
  FUZZ_CHECK(buf.size() <= cap + 1);
  return {st, std::string(reinterpret_cast<const char*>(buf.data()), buf.size())};
}

// A client frame (masked with a fixed key), RSV1 on the first.
std::string frame(Opcode op, std::span<const std::byte> payload, bool fin, bool rsv1) {
  const uint32_t key = 0x12345678;
  std::byte header[kMaxHeaderBytes];
  const size_t h = encode_header(header, fin, op, payload.size(), &key, rsv1 ? 0x4 : 0);
  std::string f(reinterpret_cast<const char*>(header), h);
  f.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  apply_mask(reinterpret_cast<std::byte*>(f.data() + h), payload.size(), key);
  return f;
}

struct Ev {
  EventKind kind;
  uint16_t code;
  std::string payload;
  bool operator==(const Ev&) const = default;
};

std::vector<Ev> run(const std::string& wire, size_t step, const DeflateParams& p, size_t limit) {
  Limits lim;
  lim.max_message_bytes = limit;
  Protocol proto(Role::kServer, lim);
  proto.set_deflate(p);
  std::vector<Ev> evs;
  for (size_t i = 0; i < wire.size(); i += step) {
    proto.feed(
        {reinterpret_cast<const std::byte*>(wire.data() + i), std::min(step, wire.size() - i)});
    for (;;) {
      Event ev = proto.poll_event();
      if (ev.kind == EventKind::kNeedMore) break;
      evs.push_back(
          {ev.kind, ev.code,
           ev.kind == EventKind::kMessage
               ? std::string(reinterpret_cast<const char*>(ev.payload.data()), ev.payload.size())
               : std::string()});
      if (ev.kind == EventKind::kMessage) FUZZ_CHECK(ev.payload.size() <= limit);
    }
  }
  (void)drain(proto);
  return evs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  const uint8_t opt = data[0];
  const std::span<const std::byte> z(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const size_t limit = size_t{16} << (4 * ((opt >> 2) & 3));  // 16 B, 256 B, 4 KiB, 64 KiB

  const Inflated whole = inflate_pieces(z, limit, z.size() + 1);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{(opt >> 4) + 1u}}) {
    const Inflated r = inflate_pieces(z, limit, piece);
    FUZZ_CHECK(r.status == whole.status);
    if (r.status != InflateStatus::kTooBig) FUZZ_CHECK(r.out == whole.out);
  }

  DeflateParams p;
  p.enabled = true;
  p.server_no_context_takeover = true;
  p.client_no_context_takeover = (opt & 2) != 0;
  const Opcode op = (opt & 1) ? Opcode::kText : Opcode::kBinary;
  // The payload over 1 to 16 frames, then the same message again (context kept or not).
  const size_t frames = (opt >> 4) + 1u;
  const size_t step = z.size() / frames + 1;
  std::string wire;
  for (int round = 0; round < 2; ++round) {
    size_t i = 0;
    size_t n = 0;
    do {
      const size_t len = std::min(step, z.size() - i);
      wire += frame(n == 0 ? op : Opcode::kContinuation, z.subspan(i, len), i + len >= z.size(),
                    n == 0);
      i += len;
      ++n;
    } while (i < z.size());
  }
  const std::vector<Ev> at_once = run(wire, wire.size(), p, limit);
  FUZZ_CHECK(run(wire, 1, p, limit) == at_once);
  for (const Ev& ev : at_once) {
    if (ev.kind != EventKind::kMessage) continue;
    Deflater d(1, 15);
    const std::span<const std::byte> again =
        d.compress({reinterpret_cast<const std::byte*>(ev.payload.data()), ev.payload.size()});
    FUZZ_CHECK(!again.empty());
    const Inflated back = inflate_pieces(again, limit, again.size() + 1);
    FUZZ_CHECK(back.status == InflateStatus::kOk && back.out == ev.payload);
  }
  return 0;
}
