// SPDX-License-Identifier: MIT
#include "token_commands.h"

#include <cstdio>

#include "auth/token_issue.h"
#include "auth_runtime.h"

namespace relay::daemon {

int run_gen_key() {
  const std::string secret = auth::make_secret();
  if (secret.empty()) {
    std::fprintf(stderr, "wsrelay: gen-key: the random number generator failed\n");
    return 70;  // EX_SOFTWARE
  }
  std::printf("%s\n", secret.c_str());
  return 0;
}

int run_gen_token(const CliOptions& o) {
  const ConfigResult loaded = load_config(o.config_path);
  if (!loaded) {
    for (const auto& e : loaded.errors)
      std::fprintf(stderr, "wsrelay: %s\n", e.to_string().c_str());
    return kExitConfig;
  }
  const AuthConfig& a = loaded.config->auth;
  std::string why;
  const std::optional<auth::Key> key = load_signing_key(a, o.token.kid, &why);
  if (!key) {
    std::fprintf(stderr, "wsrelay: gen-token: %s\n", why.c_str());
    return kExitConfig;
  }
  auth::TokenSpec spec;
  spec.sub = o.token.sub;
  spec.subscribe = o.token.subscribe;
  spec.publish = o.token.publish;
  spec.ttl_s = o.token.ttl_s;
  if (!a.audience.empty()) spec.audience = a.audience.front();  // so the relay accepts it
  spec.issuer = a.issuer;
  const std::string token = auth::make_token(*key, spec);
  if (token.empty()) {
    std::fprintf(stderr, "wsrelay: gen-token: key %s cannot sign (a public key only?)\n",
                 key->kid.empty() ? "(no kid)" : key->kid.c_str());
    return kExitConfig;
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace relay::daemon
