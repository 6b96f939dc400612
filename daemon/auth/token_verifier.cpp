// SPDX-License-Identifier: MIT
#include "auth/token_verifier.h"

#include <jwt.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "auth/base64url.h"
#include "auth/claims.h"

namespace relay::auth {
namespace {

using nlohmann::json;

struct Parts {
  std::string_view header, payload, signature;
};

std::optional<Parts> split(std::string_view token) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return std::nullopt;
  return Parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

jwt_alg_t libjwt_alg(Alg alg) {
  switch (alg) {
    case Alg::kHS256:
      return JWT_ALG_HS256;
    case Alg::kHS384:
      return JWT_ALG_HS384;
    case Alg::kHS512:
      return JWT_ALG_HS512;
    case Alg::kRS256:
      return JWT_ALG_RS256;
    case Alg::kRS384:
      return JWT_ALG_RS384;
    case Alg::kRS512:
      return JWT_ALG_RS512;
    case Alg::kES256:
      return JWT_ALG_ES256;
    case Alg::kES384:
      return JWT_ALG_ES384;
  }
  return JWT_ALG_INVAL;
}

// libjwt checks the signature with the key's material; it reads the alg from the header,
// which the caller has already compared with the key's, and it is compared once more here.
bool signature_verifies(const std::string& token, const Key& key) {
  const std::string& material = is_hmac(key.alg) ? key.secret : key.public_pem;
  if (material.empty()) return false;  // libjwt without a key skips the signature check
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(material.data()),
                      static_cast<int>(material.size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> decoded(raw, jwt_free);
  return rc == 0 && decoded && jwt_get_alg(decoded.get()) == libjwt_alg(key.alg);
}

}  // namespace

std::string_view failure_name(AuthFailure failure) noexcept {
  switch (failure) {
    case AuthFailure::kNone:
      return "ok";
    case AuthFailure::kMalformed:
      return "malformed";
    case AuthFailure::kBadSignature:
      return "bad_signature";
    case AuthFailure::kExpired:
      return "expired";
    case AuthFailure::kNotYetValid:
      return "not_yet_valid";
    case AuthFailure::kWrongAlg:
      return "wrong_alg";
    case AuthFailure::kUnknownKid:
      return "unknown_kid";
    case AuthFailure::kBadAudience:
      return "bad_audience";
    case AuthFailure::kBadIssuer:
      return "bad_issuer";
    case AuthFailure::kRevoked:
      return "revoked";
    case AuthFailure::kMissingExp:
      return "missing_exp";
  }
  return "unknown";
}

TokenVerifier::TokenVerifier(std::vector<Key> keys, VerifyOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

// A token naming a kid must name a configured one; a token without a kid is accepted only
// when exactly one key is configured.
const Key* TokenVerifier::key_for(const std::string* kid) const noexcept {
  if (kid == nullptr) return keys_.size() == 1 ? &keys_.front() : nullptr;
  for (const auto& k : keys_)
    if (k.kid == *kid) return &k;
  return nullptr;
}

VerifyResult TokenVerifier::verify(std::string_view token, int64_t now_s,
                                   const RevocationList* revoked) const {
  VerifyResult result;
  if (token.empty() || token.size() > kMaxTokenSize) return result;
  auto parts = split(token);
  if (!parts) return result;
  auto header_text = base64url_decode(parts->header);
  auto payload_text = base64url_decode(parts->payload);
  if (!header_text || !payload_text || !base64url_decode(parts->signature)) return result;
  json header = json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
  json claims = json::parse(*payload_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object() || claims.is_discarded() || !claims.is_object())
    return result;
  auto alg = header.find("alg");
  auto kid = header.find("kid");
  if (alg == header.end() || !alg->is_string() || (kid != header.end() && !kid->is_string()) ||
      header.contains("crit"))  // no extension is understood, so none may be critical
    return result;
  const auto& alg_text = alg->get_ref<const std::string&>();
  if (!alg_from_name(alg_text)) {  // "none", "None", "EdDSA", ...
    result.failure = AuthFailure::kWrongAlg;
    return result;
  }
  const Key* key = key_for(kid == header.end() ? nullptr : &kid->get_ref<const std::string&>());
  if (key == nullptr) {
    result.failure = AuthFailure::kUnknownKid;
    return result;
  }
  if (alg_text != alg_name(key->alg)) {  // the key's alg decides, never the header's
    result.failure = AuthFailure::kWrongAlg;
    return result;
  }
  // libjwt parses both parts again with jansson, which refuses a few texts nlohmann takes
  // (a \u0000 escape, integers beyond 64 bits, nesting beyond 2048): those are refused
  // here as a bad signature, as libjwt cannot tell its reasons apart.
  if (parts->signature.empty() || !signature_verifies(std::string(token), *key)) {
    result.failure = AuthFailure::kBadSignature;
    return result;
  }
  result.failure = check_claims(claims, options_, now_s, &result.identity);
  result.identity.kid = key->kid;
  if (result.ok() && revoked != nullptr && revoked->is_revoked(result.identity))
    result.failure = AuthFailure::kRevoked;
  return result;
}

}  // namespace relay::auth
