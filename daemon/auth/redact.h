// SPDX-License-Identifier: MIT
// Tokens never reach a log: the request target is logged with the values of its token=
// and access_token= query parameters replaced.
#pragma once

#include <string>
#include <string_view>

namespace relay::auth {

// "/ws?token=abc&x=1" -> "/ws?token=REDACTED&x=1". Names are compared after
// percent-decoding and case-insensitively, so "%74oken=" and "TOKEN=" are caught too.
std::string redact_target(std::string_view target);

}  // namespace relay::auth
