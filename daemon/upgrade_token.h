// SPDX-License-Identifier: MIT
// Where a raw channel's token travels on the upgrade request, since a browser cannot set
// headers on a WebSocket: `?token=` / `?access_token=`, a `Sec-WebSocket-Protocol` entry
// `bearer.<token>`, or the cookie auth.cookie names (and `Authorization: Bearer` for other
// clients). No I/O and no logging: the token must never reach a log line.
#pragma once

#include <string>
#include <string_view>

namespace relay::daemon {

struct UpgradeToken {
  std::string token;      // empty = none found
  std::string protocols;  // the Sec-WebSocket-Protocol offer without bearer.* entries
};

// The first token found, in this order: Authorization: Bearer, the query, the subprotocol
// offer, the cookie `cookie_name` ("" = cookies not looked at).
UpgradeToken find_upgrade_token(std::string_view target, std::string_view authorization,
                                std::string_view protocols, std::string_view cookie_header,
                                std::string_view cookie_name);

}  // namespace relay::daemon
