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

}  // namespace relay::daemon::redis
