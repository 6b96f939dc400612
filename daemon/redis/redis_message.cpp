// SPDX-License-Identifier: MIT
#include "redis/redis_message.h"

#include <charconv>

namespace relay::daemon::redis {

void encode(wire::PayloadKind kind, uint64_t node, std::span<const std::byte> payload,
            std::string* out) {
  out->clear();
  out->reserve(kHeaderBytes + payload.size());
  out->push_back(kind == wire::PayloadKind::kData   ? 'd'
                 : kind == wire::PayloadKind::kText ? 't'
                                                    : 'b');
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((node >> (8 * i)) & 0xff));
  out->append(reinterpret_cast<const char*>(payload.data()), payload.size());
}

std::optional<Decoded> decode(std::string_view bytes) noexcept {
  if (bytes.size() < kHeaderBytes) return std::nullopt;
  Decoded d;
  switch (bytes[0]) {
    case 'd':
      d.kind = wire::PayloadKind::kData;
      break;
    case 't':
      d.kind = wire::PayloadKind::kText;
      break;
    case 'b':
      d.kind = wire::PayloadKind::kBinary;
      break;
    default:
      return std::nullopt;
  }
  d.node = 0;
  for (int i = 0; i < 8; ++i)
    d.node |= uint64_t(static_cast<unsigned char>(bytes[1 + i])) << (8 * i);
  d.payload = {reinterpret_cast<const std::byte*>(bytes.data()) + kHeaderBytes,
               bytes.size() - kHeaderBytes};
  return d;
}

namespace {

bool hex_value(std::string_view hex, uint64_t* out) noexcept {
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), *out, 16);
  return !hex.empty() && ec == std::errc() && ptr == hex.data() + hex.size();
}

}  // namespace

std::optional<Positioned> decode_position(std::string_view bytes) noexcept {
  if (bytes.size() < kPositionBytes || bytes[0] != 'h') return std::nullopt;
  Positioned p;
  if (!hex_value(bytes.substr(1, 8), &p.epoch) || !hex_value(bytes.substr(9, 16), &p.offset))
    return std::nullopt;
  p.rest = bytes.substr(kPositionBytes);
  return p;
}

void encode_presence(uint64_t node, bool join, std::string_view member_json, std::string* out) {
  out->clear();
  out->push_back('p');
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((node >> (8 * i)) & 0xff));
  out->push_back(join ? 'j' : 'l');
  out->append(member_json);
}

std::optional<PresenceEvent> decode_presence(std::string_view bytes) noexcept {
  if (bytes.size() < 10 || bytes[0] != 'p' || (bytes[9] != 'j' && bytes[9] != 'l'))
    return std::nullopt;
  PresenceEvent e{0, bytes[9] == 'j', bytes.substr(10)};
  for (int i = 0; i < 8; ++i)
    e.node |= uint64_t(static_cast<unsigned char>(bytes[1 + i])) << (8 * i);
  return e;
}

uint64_t parse_epoch(std::string_view hex) noexcept {
  uint64_t e = 0;
  return hex.size() == 8 && hex_value(hex, &e) ? e : 0;
}

}  // namespace relay::daemon::redis
