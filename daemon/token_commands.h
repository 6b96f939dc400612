// SPDX-License-Identifier: MIT
// `wsrelay gen-key` and `wsrelay gen-token` (README "Securing wsrelay"): print a fresh
// secret, or a token signed with the configured key, and return the exit status.
#pragma once

#include "cli.h"

namespace relay::daemon {

int run_gen_key();
// The config (--config, else the built-in defaults) names the key; exit 78 when it has none
// or it cannot sign (a public key only), 0 after printing the token.
int run_gen_token(const CliOptions& o);

}  // namespace relay::daemon
