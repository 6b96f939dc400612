// SPDX-License-Identifier: MIT
// The bytes a node PUBLISHes to Redis: a 9-byte header, then the payload as it came
// (binary-safe, never re-encoded). Header: one byte for the payload kind ('d' JSON data,
// 't' text, 'b' binary), then the publishing node's id (8 bytes, little-endian), so a
// node recognises its own messages coming back (it has delivered them locally already).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wire.h"

namespace relay::daemon::redis {

inline constexpr size_t kHeaderBytes = 9;

struct Decoded {
  wire::PayloadKind kind;
  uint64_t node;
  std::span<const std::byte> payload;  // into the decoded bytes
};

// header + payload, into out (cleared first; its capacity is reused).
void encode(wire::PayloadKind kind, uint64_t node, std::span<const std::byte> payload,
            std::string* out);
// nullopt when the bytes are not ours (too short or an unknown kind byte).
std::optional<Decoded> decode(std::string_view bytes) noexcept;

// A message on a channel with history is PUBLISHed by the Lua script (redis_scripts.h)
// with its position in front: 'h', the epoch (8 hex digits), the offset (16 hex digits),
// then the bytes above.
inline constexpr size_t kPositionBytes = 25;
struct Positioned {
  uint64_t epoch;
  uint64_t offset;
  std::string_view rest;  // header + payload, for decode()
};
// nullopt when the bytes carry no position (a channel without history).
std::optional<Positioned> decode_position(std::string_view bytes) noexcept;
// A presence event crossing nodes: 'p', the node id (8 bytes, little-endian), 'j' (join)
// or 'l' (leave), then the member's JSON object.
void encode_presence(uint64_t node, bool join, std::string_view member_json, std::string* out);
struct PresenceEvent {
  uint64_t node;
  bool join;
  std::string_view member_json;
};
std::optional<PresenceEvent> decode_presence(std::string_view bytes) noexcept;

// The epoch as Redis stores it: 8 hex digits (0 when malformed).
uint64_t parse_epoch(std::string_view hex) noexcept;

}  // namespace relay::daemon::redis
