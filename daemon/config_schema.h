// SPDX-License-Identifier: MIT
// The JSON Schema of the config file (config/wsrelay.schema.json), compiled into the binary
// by daemon/embed_file.cmake so an installed wsrelay validates without any file of ours.
#pragma once

#include <string_view>

namespace relay::daemon {
std::string_view config_schema_json() noexcept;
}  // namespace relay::daemon
