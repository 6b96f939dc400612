// SPDX-License-Identifier: MIT
// --print-config: a Config back to JSON with every key (defaults included, null for the
// optional ones), in the schema's shape, so parse_config() accepts the text unchanged and an
// operator can start a config file from it.
#pragma once

#include <string>

#include "config.h"

namespace relay::daemon {

// Pretty-printed JSON (two-space indent, trailing newline). source_path is not a key.
std::string config_to_json(const Config& c);

}  // namespace relay::daemon
