// SPDX-License-Identifier: MIT
// A token-signing key: its kid, the one algorithm it may be used with, and its material.
// The key's configured algorithm decides how a token is checked, never the token's header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::auth {

// No "none", by construction. EdDSA is missing because libjwt 1.10 (Debian 12) lacks it.
enum class Alg : uint8_t { kHS256, kHS384, kHS512, kRS256, kRS384, kRS512, kES256, kES384 };

std::optional<Alg> alg_from_name(std::string_view name) noexcept;  // exact, case-sensitive
std::string_view alg_name(Alg alg) noexcept;
bool is_hmac(Alg alg) noexcept;

struct Key {
  std::string kid;  // may be empty when it is the only key
  Alg alg = Alg::kHS256;
  std::string secret;       // HMAC: the secret's bytes
  std::string public_pem;   // RS/ES: verifies tokens
  std::string private_pem;  // RS/ES: signs tokens (gen-token); empty for a public key only
};

// How a key is configured: the material is inline (`secret` or `pem`) or in `file`.
struct KeySpec {
  std::string kid;
  std::string alg;
  std::string secret;  // HMAC only
  std::string pem;     // RS/ES only: a public key, or a private key (the public half is derived)
  std::string file;    // a path, or "credential:<name>" = $CREDENTIALS_DIRECTORY/<name>
};

inline constexpr size_t kMinHmacSecret = 32;  // bytes (RFC 7518 §3.2: at least the hash size)

// The path `file` names. "credential:<name>" needs credentials_dir (systemd's
// $CREDENTIALS_DIRECTORY, from LoadCredential=) and a plain file name.
std::optional<std::string> resolve_key_file(std::string_view file, const char* credentials_dir,
                                            std::string* error);

// Loads and checks a key: the algorithm is known, the secret is long enough, the PEM parses
// and its type (RSA, EC P-256 / P-384) fits the algorithm. On failure `error` says why.
std::optional<Key> load_key(const KeySpec& spec, const char* credentials_dir, std::string* error);

}  // namespace relay::auth
