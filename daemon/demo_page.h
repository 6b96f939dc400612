// SPDX-License-Identifier: MIT
// The demo chat served at GET / (config `demo`): plain HTML + JS, no build step.
#pragma once

#include <string_view>

namespace relay::daemon {
std::string_view demo_page_html() noexcept;
}
