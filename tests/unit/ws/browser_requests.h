// SPDX-License-Identifier: MIT
// Real browsers' upgrade requests, shared by the handshake tests and ws_core_bench.
#pragma once

#include <string>

namespace relay::ws::test {

// Captured from Chromium 156 (headless, Debian) opening new WebSocket('ws://.../chat?room=1').
inline const std::string kChromeRequest =
    "GET /chat?room=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:42313\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://127.0.0.1:42313\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: sbtGO+vD9Yu9+FSvGtnPAA==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

}  // namespace relay::ws::test
