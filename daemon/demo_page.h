// SPDX-License-Identifier: MIT
// The files of daemon/web/, embedded at build time (daemon/CMakeLists.txt, embed_file.cmake):
// the demo chat served at GET / (config `demo`) and the browser client at GET /wsrelay.js.
#pragma once

#include <string_view>

namespace relay::daemon {
std::string_view demo_page_html() noexcept;  // daemon/web/index.html
std::string_view wsrelay_js() noexcept;      // daemon/web/wsrelay.js
}  // namespace relay::daemon
