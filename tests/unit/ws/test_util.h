// SPDX-License-Identifier: MIT
// Helpers shared by the lib/ws unit tests: byte strings, hand-built frames, feeding a
// Protocol in chunks (whole, split at every byte, one byte at a time), and decoding
// what a Protocol queued for output.
#pragma once

#include <gtest/gtest.h>
#include <sys/uio.h>

#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "../../support/protocol_output.h"
#include "ws/frame.h"
#include "ws/protocol.h"

namespace relay::ws::test {

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string str(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::string hex(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// The masking key of the RFC 6455 §5.7 examples: 37 fa 21 3d on the wire.
inline constexpr uint32_t kRfcKey =
    std::bit_cast<uint32_t>(std::array<uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d});

// One frame built from its parts; `key` set = masked with that key (wire-order bytes).
struct FrameSpec {
  uint8_t opcode = 0x2;
  std::string payload;
  bool fin = true;
  uint8_t rsv = 0;
  bool masked = false;
  uint32_t key = kRfcKey;
};

// Encodes by hand (not with encode_header) so the tests check the codec independently.
inline std::string build_frame(const FrameSpec& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv << 4) | (f.opcode & 0xF)));
  const uint8_t m = f.masked ? 0x80 : 0;
  const uint64_t n = f.payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  }
  std::string payload = f.payload;
  if (f.masked) {
    uint8_t k[4];
    std::memcpy(k, &f.key, 4);
    out.append(reinterpret_cast<const char*>(k), 4);
    for (size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(payload[i] ^ k[i % 4]);
  }
  return out + payload;
}
// A frame as a client sends it (masked) and as a server sends it (unmasked).
inline std::string cframe(uint8_t op, std::string_view payload, bool fin = true, uint8_t rsv = 0) {
  return build_frame({op, std::string(payload), fin, rsv, true});
}
inline std::string sframe(uint8_t op, std::string_view payload, bool fin = true, uint8_t rsv = 0) {
  return build_frame({op, std::string(payload), fin, rsv, false});
}
inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string s;
  s.push_back(static_cast<char>(code >> 8));
  s.push_back(static_cast<char>(code));
  return s.append(reason);
}

// An event with its payload copied, comparable.
struct Rec {
  EventKind kind;
  bool text = false;
  uint16_t code = 0;
  std::string payload;
  bool operator==(const Rec&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const Rec& r) {
  static const char* kNames[] = {"NeedMore", "Message", "Ping", "Pong", "Close", "Error"};
  os << kNames[static_cast<int>(r.kind)] << (r.text ? "(text" : "(bin") << ", " << r.code << ", \"";
  if (r.payload.size() <= 40)
    os << r.payload;
  else
    os << r.payload.substr(0, 40) << "...[" << r.payload.size() << "]";
  return os << "\")";
}
inline Rec msg(std::string_view p, bool text = true) {
  return {EventKind::kMessage, text, 0, std::string(p)};
}
inline Rec ping(std::string_view p) { return {EventKind::kPing, false, 0, std::string(p)}; }
inline Rec pong(std::string_view p) { return {EventKind::kPong, false, 0, std::string(p)}; }
inline Rec closed(uint16_t code, std::string_view reason = {}) {
  return {EventKind::kClose, false, code, std::string(reason)};
}
inline Rec error(uint16_t code) { return {EventKind::kError, false, code, {}}; }

// Polls until kNeedMore, recording events (error payloads are dropped: the reason text
// is not part of the contract).
inline void poll_all(Protocol& p, std::vector<Rec>* out) {
  for (int guard = 0; guard < 1000000; ++guard) {
    Event ev = p.poll_event();
    if (ev.kind == EventKind::kNeedMore) return;
    Rec r{ev.kind, ev.text, ev.code, ev.kind == EventKind::kError ? "" : str(ev.payload)};
    out->push_back(std::move(r));
  }
  ADD_FAILURE() << "poll_event never returned kNeedMore";
}

// Feeds `input` in chunks of the given sizes, polling after each; alternates between
// feed() and input_space()/commit_input() so both paths are exercised.
inline std::vector<Rec> run_chunks(Protocol& p, std::string_view input,
                                   const std::vector<size_t>& sizes) {
  std::vector<Rec> ev;
  size_t pos = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string_view chunk = input.substr(pos, sizes[i]);
    pos += chunk.size();
    if (i % 2 == 0) {
      p.feed(bytes(chunk));
    } else {
      auto space = p.input_space(chunk.size());
      EXPECT_GE(space.size(), chunk.size());
      if (!chunk.empty()) std::memcpy(space.data(), chunk.data(), chunk.size());
      p.commit_input(chunk.size());
    }
    poll_all(p, &ev);
  }
  return ev;
}

// Calls fn(sizes) for: the whole input; a split at every byte (for long inputs, at
// every byte of the first and last 64 and every 61st in between); one byte at a time.
inline void for_each_chunking(size_t n, const std::function<void(const std::vector<size_t>&)>& fn) {
  fn({n});
  for (size_t k = 1; k < n; ++k) {
    if (n > 4096 && k > 64 && k < n - 64 && k % 61 != 0) continue;
    fn({k, n - k});
  }
  if (n > 1) fn(std::vector<size_t>(n, 1));
}

// Output frames decoded (and unmasked).
struct OutFrame {
  uint8_t opcode;
  bool fin;
  bool masked;
  uint32_t key;
  std::string payload;
};
inline std::vector<OutFrame> decode_frames(std::string_view wire) {
  std::vector<OutFrame> frames;
  while (!wire.empty()) {
    FrameHeader h;
    if (decode_header(bytes(wire), &h) != HeaderStatus::kOk ||
        wire.size() < h.header_len + h.payload_len) {
      ADD_FAILURE() << "truncated output frame";
      break;
    }
    std::string payload(wire.substr(h.header_len, h.payload_len));
    if (h.masked)
      apply_mask(reinterpret_cast<std::byte*>(payload.data()), payload.size(), h.mask_key);
    frames.push_back(
        {static_cast<uint8_t>(h.opcode), h.fin, h.masked, h.mask_key, std::move(payload)});
    wire.remove_prefix(h.header_len + h.payload_len);
  }
  return frames;
}

}  // namespace relay::ws::test
