// SPDX-License-Identifier: MIT
// The claims of a token whose signature has been checked: time claims, aud, iss, and the
// channel rights claim {"channels": {"subscribe": [...], "publish": [...]}}.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "auth/identity.h"
#include "auth/token_verifier.h"

namespace relay::auth {

// claims: the parsed second part. Fills `out` and returns kNone, or the failure.
AuthFailure check_claims(const nlohmann::json& claims, const VerifyOptions& options, int64_t now_s,
                         Identity* out);

}  // namespace relay::auth
