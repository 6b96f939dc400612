// SPDX-License-Identifier: MIT
// AuthRuntime: the `auth` config turned into what connections are checked with (the loaded
// keys in a TokenVerifier, the revocation list, the mode). Built at start-up and on SIGHUP;
// a reload that cannot load a key keeps the running one.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/identity.h"
#include "auth/key.h"
#include "auth/revocation.h"
#include "auth/rights.h"
#include "auth/token_verifier.h"
#include "config.h"

namespace relay::daemon {

// wsrelay's own close codes for tokens (README "Close codes and HTTP statuses").
namespace auth_close {
constexpr uint16_t kUnauthorized = 4001;  // no valid token (first /ws message, timeout, bad token)
constexpr uint16_t kExpired = 4003;       // the token expired and was not refreshed
constexpr uint16_t kRevoked = 4004;       // a reload revoked its sub/jti or removed its key
}  // namespace auth_close

struct AuthRuntime {
  auth::AuthMode mode = auth::AuthMode::kNone;
  auth::TokenVerifier verifier;
  auth::RevocationList revoked;
  std::vector<std::string> kids;  // of the loaded keys
  int64_t leeway_s = 5;

  bool enabled() const noexcept { return mode != auth::AuthMode::kNone; }
  bool has_kid(std::string_view kid) const noexcept;
  auth::VerifyResult verify(std::string_view token) const {
    // Not time(): glibc reads the coarse clock, up to a tick behind, so right after a second
    // begins a token issued "now" by a precise clock would be refused as not yet valid.
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return verifier.verify(token, std::chrono::duration_cast<std::chrono::seconds>(now).count(),
                           &revoked);
  }
};

// Loads every key (secret, PEM or file, "credential:" through $CREDENTIALS_DIRECTORY).
// On failure returns null and appends one error per bad key, named by its JSON pointer.
std::unique_ptr<AuthRuntime> make_auth_runtime(const AuthConfig& a,
                                               std::vector<ConfigError>* errors);

// The same keys for signing (gen-token): the key with `kid`, or the only one ("" = first).
std::optional<auth::Key> load_signing_key(const AuthConfig& a, std::string_view kid,
                                          std::string* error);

}  // namespace relay::daemon
