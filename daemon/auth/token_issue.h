// SPDX-License-Identifier: MIT
// What `wsrelay gen-token` and `wsrelay gen-key` print: a signed token for a backend or a
// test, and a fresh random secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/key.h"

namespace relay::auth {

struct TokenSpec {
  std::string sub;
  std::vector<std::string> subscribe;  // patterns; both empty = no "channels" claim
  std::vector<std::string> publish;
  int64_t ttl_s = 3600;  // exp = now + ttl; 0 = no exp
  int64_t now_s = 0;     // iat; 0 = the current time
  std::string jti;       // empty = a random 128-bit id (so the token can be revoked alone)
  std::string audience;  // empty = no aud
  std::string issuer;    // empty = no iss
};

// A JWT signed with `key` (HMAC secret or private PEM), with the key's kid in the header.
// Empty on failure (a public-only key, an invalid pattern, a libjwt error).
std::string make_token(const Key& key, const TokenSpec& spec);

// 256 random bits from RAND_bytes, base64url: 43 characters, usable as an HS256 secret or
// an API key. Empty only if the RNG fails.
std::string make_secret();

// "90", "90s", "15m", "1h", "7d" -> seconds; nullopt when malformed or above ten years.
std::optional<int64_t> parse_ttl(std::string_view text) noexcept;

}  // namespace relay::auth
