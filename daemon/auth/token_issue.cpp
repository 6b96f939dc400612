// SPDX-License-Identifier: MIT
#include "auth/token_issue.h"

#include <jwt.h>
#include <openssl/rand.h>

#include <charconv>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "auth/base64url.h"
#include "auth/rights.h"

namespace relay::auth {
namespace {

using nlohmann::json;
using JwtPtr = std::unique_ptr<jwt_t, decltype(&jwt_free)>;

std::string random_base64url(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) return {};
  return base64url_encode(std::span<const unsigned char>(buf));
}

bool all_valid(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    if (!is_valid_pattern(p)) return false;
  return true;
}

json claims_of(const TokenSpec& spec, int64_t now) {
  json claims = {{"sub", spec.sub}, {"iat", now}};
  if (spec.ttl_s > 0) claims["exp"] = now + spec.ttl_s;
  claims["jti"] = spec.jti.empty() ? random_base64url(16) : spec.jti;
  if (!spec.audience.empty()) claims["aud"] = spec.audience;
  if (!spec.issuer.empty()) claims["iss"] = spec.issuer;
  if (!spec.subscribe.empty() || !spec.publish.empty())
    claims["channels"] = {{"subscribe", spec.subscribe}, {"publish", spec.publish}};
  return claims;
}

jwt_alg_t to_libjwt(Alg alg) { return jwt_str_alg(std::string(alg_name(alg)).c_str()); }

}  // namespace

std::string make_token(const Key& key, const TokenSpec& spec) {
  const std::string& material = is_hmac(key.alg) ? key.secret : key.private_pem;
  if (material.empty() || !all_valid(spec.subscribe) || !all_valid(spec.publish)) return {};
  int64_t now = spec.now_s != 0 ? spec.now_s : static_cast<int64_t>(std::time(nullptr));
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return {};
  JwtPtr jwt(raw, jwt_free);
  std::string claims = claims_of(spec, now).dump();
  if (jwt_add_grants_json(jwt.get(), claims.c_str()) != 0) return {};
  if (!key.kid.empty() && jwt_add_header(jwt.get(), "kid", key.kid.c_str()) != 0) return {};
  if (jwt_set_alg(jwt.get(), to_libjwt(key.alg),
                  reinterpret_cast<const unsigned char*>(material.data()),
                  static_cast<int>(material.size())) != 0)
    return {};
  std::unique_ptr<char, decltype(&free)> token(jwt_encode_str(jwt.get()), free);
  return token ? std::string(token.get()) : std::string();
}

std::string make_secret() { return random_base64url(32); }

std::optional<int64_t> parse_ttl(std::string_view text) noexcept {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || value <= 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int64_t scale = unit.empty() || unit == "s" ? 1
                  : unit == "m"               ? 60
                  : unit == "h"               ? 3600
                  : unit == "d"               ? 86400
                                              : 0;
  constexpr int64_t kTenYears = 10 * 366 * 86400;
  if (scale == 0 || value > kTenYears / scale) return std::nullopt;
  return value * scale;
}

}  // namespace relay::auth
