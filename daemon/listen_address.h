// SPDX-License-Identifier: MIT
// Listen addresses from the config and the command line, judged by the parser the server
// binds with (net::parse_address: "HOST:PORT" or "[V6]:PORT", numeric hosts or localhost,
// no DNS). This file only adds the words for a config error: what is wrong with the text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relay::daemon {

// nullopt when net::parse_address() accepts `text`; else what was expected, for a ConfigError.
std::optional<std::string> listen_address_problem(std::string_view text);

}  // namespace relay::daemon
