// SPDX-License-Identifier: MIT
#include "auth/claims.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "auth/rights.h"

namespace relay::auth {
namespace {

using nlohmann::json;

// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly with a fraction.
// nullopt when absent; *bad when present but not a usable number.
std::optional<int64_t> numeric_date(const json& claims, const char* name, bool* bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_unsigned()) {
    uint64_t v = it->get<uint64_t>();
    if (v <= static_cast<uint64_t>(INT64_MAX / 2)) return static_cast<int64_t>(v);
  } else if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && std::fabs(v) < 4e18) return static_cast<int64_t>(std::floor(v));
  }
  *bad = true;
  return std::nullopt;
}

// Clamped so that adding a leeway never overflows.
int64_t clamp_time(int64_t t) {
  constexpr int64_t kLimit = INT64_MAX / 4;
  return t > kLimit ? kLimit : (t < -kLimit ? -kLimit : t);
}

bool string_claim(const json& claims, const char* name, std::string* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

bool audience_matches(const json& aud, const std::vector<std::string>& accepted) {
  auto accepted_has = [&](const json& v) {
    if (!v.is_string()) return false;
    const auto& s = v.get_ref<const std::string&>();
    for (const auto& a : accepted)
      if (a == s) return true;
    return false;
  };
  if (aud.is_string()) return accepted_has(aud);
  if (!aud.is_array()) return false;
  for (const auto& v : aud)
    if (accepted_has(v)) return true;
  return false;
}

bool pattern_list(const json& channels, const char* name, std::vector<std::string>* out) {
  auto it = channels.find(name);
  if (it == channels.end()) return true;
  if (!it->is_array() || it->size() > kMaxPatternsPerClaim) return false;
  for (const auto& p : *it) {
    if (!p.is_string() || !is_valid_pattern(p.get_ref<const std::string&>())) return false;
    out->push_back(p.get<std::string>());
  }
  return true;
}

AuthFailure check_times(const json& claims, const VerifyOptions& options, int64_t now_s,
                        Identity* out) {
  bool bad = false;
  auto exp = numeric_date(claims, "exp", &bad);
  auto nbf = numeric_date(claims, "nbf", &bad);
  auto iat = numeric_date(claims, "iat", &bad);
  if (bad) return AuthFailure::kMalformed;
  int64_t now = clamp_time(now_s);
  int64_t leeway = options.leeway_s < 0 ? 0 : clamp_time(options.leeway_s);
  if (!exp && options.require_exp) return AuthFailure::kMissingExp;
  // RFC 7519: valid before exp, from nbf on.
  if (exp && now >= clamp_time(*exp) + leeway) return AuthFailure::kExpired;
  if (nbf && now + leeway < clamp_time(*nbf)) return AuthFailure::kNotYetValid;
  if (iat && now + leeway < clamp_time(*iat)) return AuthFailure::kNotYetValid;
  out->exp = exp ? *exp : 0;
  return AuthFailure::kNone;
}

}  // namespace

AuthFailure check_claims(const json& claims, const VerifyOptions& options, int64_t now_s,
                         Identity* out) {
  if (!claims.is_object()) return AuthFailure::kMalformed;
  Identity who;
  if (!string_claim(claims, "sub", &who.sub) || !string_claim(claims, "jti", &who.jti))
    return AuthFailure::kMalformed;
  if (auto f = check_times(claims, options, now_s, &who); f != AuthFailure::kNone) return f;
  if (!options.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() ||
        iss->get_ref<const std::string&>() != options.issuer)
      return AuthFailure::kBadIssuer;
  }
  if (!options.audiences.empty()) {
    auto aud = claims.find("aud");
    if (aud == claims.end() || !audience_matches(*aud, options.audiences))
      return AuthFailure::kBadAudience;
  }
  if (auto ch = claims.find("channels"); ch != claims.end()) {
    if (!ch->is_object() || !pattern_list(*ch, "subscribe", &who.rights.subscribe) ||
        !pattern_list(*ch, "publish", &who.rights.publish))
      return AuthFailure::kMalformed;
  }
  *out = std::move(who);
  return AuthFailure::kNone;
}

}  // namespace relay::auth
