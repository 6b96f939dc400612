// SPDX-License-Identifier: MIT
// permessage-deflate negotiation (RFC 7692 §5, §7.1): a strict parser of the
// Sec-WebSocket-Extensions offers, the server's choice and answer, the client's offer and
// its check of the answer. No syscalls, no state, no zlib (deflate.h does the bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace relay::ws {

// What both ends agreed on for one connection. Window bits are log2 of the LZ77 window
// (RFC 7692 §7.1.2); the server's compressor uses server_max_window_bits, the client's
// uses client_max_window_bits.
struct DeflateParams {
  bool enabled = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 15;
  uint8_t client_max_window_bits = 15;
  bool operator==(const DeflateParams&) const = default;
};

// One permessage-deflate offer as the client wrote it (RFC 7692 §7.1).
struct DeflateOffer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 0;        // 0 = absent, else 8..15
  bool client_max_window_bits = false;       // the parameter is present (valueless or not)
  uint8_t client_max_window_bits_value = 0;  // 0 = valueless, else 8..15
};

// Parses one element of the extension list ("permessage-deflate; a; b=c"). False when it
// is not permessage-deflate or is unusable: RFC 7692 §7.1 "a server MUST decline an offer"
// with an unknown parameter, a parameter given twice, or a bad value (window bits are
// decimal 8..15 without leading zeros, token or quoted-string; only client_max_window_bits
// may be valueless in an offer; the no_context_takeover ones take no value).
bool parse_deflate_offer(std::string_view element, DeflateOffer* out) noexcept;

// The server's choice among a Sec-WebSocket-Extensions value's offers: the first one it
// can honour (RFC 7692 §5.1), or none (then no extension is answered: the handshake goes
// on without compression, never an error). On success *response is the value of the
// Sec-WebSocket-Extensions answer, with only what the offer allowed:
//   server_no_context_takeover  always: one compressed frame then serves every
//                               subscriber, the compressor keeps no per-connection state
//   client_no_context_takeover  when offered: the inflate window is freed between messages
//   server_max_window_bits=N    when offered (N as offered; 8 is accepted, but zlib cannot
//                               write 8-bit windows, so nothing is compressed toward it)
//   client_max_window_bits=N    when offered with a value (binds the client to N, so our
//                               inflate window is that small; 8 is inflated with 9, since
//                               zlib's raw deflate writes a 9-bit window when asked for 8)
// Several header lines: call once per line, in order, until one returns true.
bool negotiate_deflate(std::string_view extensions, DeflateParams* agreed, std::string* response);

// The client's offer: "permessage-deflate; client_max_window_bits" (and
// "; client_no_context_takeover" when asked, to let the server free its window).
std::string deflate_client_offer(bool client_no_context_takeover = false);

// The client's check of the server's answer to deflate_client_offer() (RFC 7692 §5.1, §7.1):
// exactly one permessage-deflate element, each parameter at most once with a valid value,
// client_max_window_bits only because we offered it. False: fail the connection.
bool accept_deflate_response(std::string_view extensions, DeflateParams* agreed) noexcept;

// zlib's raw deflate and inflate take 9..15 window bits; 8 is written as 9 (zlib >= 1.2.9
// refuses 8 for raw streams), so a peer's "8" is inflated with 9.
inline int zlib_window_bits(uint8_t bits) noexcept { return bits < 9 ? 9 : bits; }

}  // namespace relay::ws
