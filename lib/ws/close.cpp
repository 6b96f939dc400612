// SPDX-License-Identifier: MIT
// Close codes (RFC 6455 §7.4) and the single table from a failure to the code and
// reason of the close frame we send. Pure functions.
#include "ws/close.h"

#include <cstddef>
#include <iterator>

namespace relay::ws {

bool is_valid_wire_code(uint16_t code) noexcept {
  // RFC 6455 §7.4.1 defines 1000-1003 and 1007-1011; 1012-1014 were registered later
  // in the IANA "WebSocket Close Code Number Registry" (§11.7) and are in use.
  if (code >= 1000 && code <= 1003) return true;
  // RFC 6455 §7.4.1: 1004 is reserved, 1005 and 1006 "MUST NOT be set as a status code
  // in a Close control frame by an endpoint".
  if (code >= 1007 && code <= 1014) return true;
  // RFC 6455 §7.4.1: 1015 (TLS failure) must not be sent either.
  // RFC 6455 §7.4.2: 0-999 unused, 1016-2999 reserved for this and future RFCs,
  // 3000-3999 registered with IANA, 4000-4999 private use; >= 5000 undefined.
  return code >= 3000 && code <= 4999;
}

namespace {
struct FailureInfo {
  uint16_t code;
  std::string_view reason;
};

// Indexed by Failure. Reasons are short ASCII (a close reason is at most 123 bytes,
// RFC 6455 §5.5).
constexpr FailureInfo kFailures[] = {
    {close_code::kProtocolError, "protocol error"},            // Failure::kProtocol
    {close_code::kInvalidPayload, "invalid UTF-8"},            // Failure::kBadUtf8
    {close_code::kMessageTooBig, "message too big"},           // Failure::kTooBig
    {close_code::kPolicyViolation, "policy violation"},        // Failure::kPolicy
    {close_code::kInvalidPayload, "invalid compressed data"},  // Failure::kBadDeflate
};
static_assert(static_cast<size_t>(Failure::kBadDeflate) + 1 == std::size(kFailures));
}  // namespace

uint16_t close_code_for(Failure f) noexcept { return kFailures[static_cast<size_t>(f)].code; }

std::string_view close_reason_for(Failure f) noexcept {
  return kFailures[static_cast<size_t>(f)].reason;
}

}  // namespace relay::ws
