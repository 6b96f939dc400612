// SPDX-License-Identifier: MIT
// Verifies a JWT against the configured keys and claim rules. The signature check is
// libjwt's; this file chooses the key (by kid), refuses an alg that is not the key's own
// before any crypto runs, and checks the claims.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/identity.h"
#include "auth/key.h"
#include "auth/revocation.h"

namespace relay::auth {

struct VerifyOptions {
  std::vector<std::string> audiences;  // token aud must name one of them; empty = not checked
  std::string issuer;                  // token iss must equal it; empty = not checked
  bool require_exp = true;
  int64_t leeway_s = 5;  // clock skew allowed on exp, nbf and iat
};

inline constexpr size_t kMaxTokenSize = 8192;
inline constexpr size_t kMaxPatternsPerClaim = 256;

struct VerifyResult {
  AuthFailure failure = AuthFailure::kMalformed;
  Identity identity;  // meaningful only when ok()
  bool ok() const noexcept { return failure == AuthFailure::kNone; }
};

class TokenVerifier {
 public:
  TokenVerifier(std::vector<Key> keys, VerifyOptions options);

  // now_s: wall-clock seconds since the epoch. revoked may be null.
  VerifyResult verify(std::string_view token, int64_t now_s,
                      const RevocationList* revoked = nullptr) const;

  size_t key_count() const noexcept { return keys_.size(); }

 private:
  const Key* key_for(const std::string* kid) const noexcept;

  std::vector<Key> keys_;
  VerifyOptions options_;
};

}  // namespace relay::auth
