// SPDX-License-Identifier: MIT
// Close codes (RFC 6455 §7.4) and the one table that maps a failure to its code.
#pragma once

#include <cstdint>
#include <string_view>

namespace relay::ws {

namespace close_code {
constexpr uint16_t kNone = 0;  // a close frame without payload (RFC 6455 §7.1.5: 1005)
constexpr uint16_t kNormal = 1000;
constexpr uint16_t kGoingAway = 1001;
constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kUnsupportedData = 1003;
constexpr uint16_t kNoStatus = 1005;  // never sent on the wire
constexpr uint16_t kAbnormal = 1006;  // never sent on the wire
constexpr uint16_t kInvalidPayload = 1007;
constexpr uint16_t kPolicyViolation = 1008;
constexpr uint16_t kMessageTooBig = 1009;
constexpr uint16_t kMandatoryExtension = 1010;
constexpr uint16_t kInternalError = 1011;
constexpr uint16_t kTryAgainLater = 1013;
}  // namespace close_code

// May a peer send this code in a close frame? RFC 6455 §7.4.1-2: 1000-1003, 1007-1014
// and 3000-4999; 1004-1006, 1015, the rest of 0-2999 and >= 5000 are protocol errors.
bool is_valid_wire_code(uint16_t code) noexcept;
// May we send it? The same set (a status of 0 means "no code" and is handled apart).
inline bool is_sendable_code(uint16_t code) noexcept { return is_valid_wire_code(code); }

// Why a connection failed, and the code its close frame carries.
enum class Failure : uint8_t {
  kProtocol,    // 1002
  kBadUtf8,     // 1007
  kTooBig,      // 1009
  kPolicy,      // 1008
  kBadDeflate,  // 1007: a permessage-deflate message that does not inflate (RFC 7692)
};
uint16_t close_code_for(Failure f) noexcept;
std::string_view close_reason_for(Failure f) noexcept;

}  // namespace relay::ws
