// SPDX-License-Identifier: MIT
// What a verified token says about its holder, and why a token was refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay::auth {

// Channel patterns a token grants (same syntax as the config's channel `match`, see rights.h).
struct Rights {
  std::vector<std::string> subscribe;
  std::vector<std::string> publish;
};

struct Identity {
  std::string sub;  // the user; empty = anonymous but signed
  std::string jti;  // empty when the token has none
  int64_t exp = 0;  // seconds since the epoch; 0 = the token has no exp
  Rights rights;
  std::string kid;  // the key that verified it (a reload that removes the key ends it)
};

// Why a token was refused: a small fixed set, so it can be a metric label.
enum class AuthFailure : uint8_t {
  kNone,          // accepted
  kMalformed,     // not three base64url parts of JSON objects, or a claim of the wrong type
  kBadSignature,  // the signature does not verify with the key
  kExpired,
  kNotYetValid,  // nbf (or iat) in the future
  kWrongAlg,     // header alg is "none" or differs from the key's configured alg
  kUnknownKid,
  kBadAudience,
  kBadIssuer,
  kRevoked,
  kMissingExp,
};

// Metric label: "malformed", "bad_signature", ... ("ok" for kNone).
std::string_view failure_name(AuthFailure failure) noexcept;

}  // namespace relay::auth
