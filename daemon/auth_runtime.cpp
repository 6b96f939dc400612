// SPDX-License-Identifier: MIT
#include "auth_runtime.h"

#include <algorithm>
#include <cstdlib>

namespace relay::daemon {
namespace {

auth::KeySpec spec_of(const AuthKeyConfig& k) {
  return auth::KeySpec{k.kid, k.alg, k.secret, k.pem, k.file};
}

}  // namespace

bool AuthRuntime::has_kid(std::string_view kid) const noexcept {
  return std::find(kids.begin(), kids.end(), kid) != kids.end();
}

std::unique_ptr<AuthRuntime> make_auth_runtime(const AuthConfig& a,
                                               std::vector<ConfigError>* errors) {
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  std::vector<auth::Key> keys;
  std::vector<std::string> kids;
  bool ok = true;
  for (size_t i = 0; i < a.keys.size(); ++i) {
    std::string why;
    std::optional<auth::Key> key = auth::load_key(spec_of(a.keys[i]), credentials, &why);
    if (!key) {
      errors->push_back(ConfigError{"/auth/keys/" + std::to_string(i), why});
      ok = false;
      continue;
    }
    kids.push_back(key->kid);
    keys.push_back(std::move(*key));
  }
  if (!ok) return nullptr;
  auth::VerifyOptions options{a.audience, a.issuer, a.require_exp, int64_t(a.leeway_s)};
  auto rt = std::unique_ptr<AuthRuntime>(
      new AuthRuntime{a.mode,
                      auth::TokenVerifier(std::move(keys), std::move(options)),
                      {},
                      std::move(kids),
                      int64_t(a.leeway_s)});
  for (const auto& s : a.revoked_subs) rt->revoked.revoke_sub(s);
  for (const auto& j : a.revoked_jtis) rt->revoked.revoke_jti(j);
  return rt;
}

std::optional<auth::Key> load_signing_key(const AuthConfig& a, std::string_view kid,
                                          std::string* error) {
  const AuthKeyConfig* chosen = nullptr;
  for (const auto& k : a.keys) {
    if (kid.empty() || k.kid == kid) {
      chosen = &k;
      break;
    }
  }
  if (chosen == nullptr) {
    *error = a.keys.empty() ? "the config has no auth.keys" : "no key with kid " + std::string(kid);
    return std::nullopt;
  }
  return auth::load_key(spec_of(*chosen), std::getenv("CREDENTIALS_DIRECTORY"), error);
}

}  // namespace relay::daemon
