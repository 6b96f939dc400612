// SPDX-License-Identifier: MIT
// `wsrelay --healthcheck URL`: one plain-HTTP GET, exit status 0 on "200", 1 otherwise, so
// a container image can health-check itself without curl. Blocking sockets with a deadline;
// it runs instead of the server, never inside the event loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::daemon {

// The parts of an http:// URL the health check needs.
struct HealthUrl {
  std::string host;  // without brackets for IPv6 ("::1")
  uint16_t port = 80;
  std::string path;  // starts with '/', "/" when the URL has none
};

// Parses "http://HOST[:PORT][/PATH]" (HOST may be "[V6]"). Anything else, https:// included,
// gives nullopt with *error saying why.
std::optional<HealthUrl> parse_health_url(std::string_view url, std::string* error);

// GETs `url` and returns 0 if the status is 200, else 1 after one line on stderr
// ("wsrelay: healthcheck: ..."). The whole exchange is bounded by timeout_ms.
int run_healthcheck(const std::string& url, int timeout_ms = 5000);

}  // namespace relay::daemon
