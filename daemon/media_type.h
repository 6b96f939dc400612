// SPDX-License-Identifier: MIT
// Content-Type checks for HTTP publish. Media types are case-insensitive (RFC 9110 §8.3.1:
// "Application/JSON; charset=utf-8" is application/json); parameters are ignored.
#pragma once

#include <string_view>

namespace relay::daemon::wire {

// application/json, or a structured-syntax "+json" type (RFC 6839: application/ld+json).
bool is_json_media_type(std::string_view content_type) noexcept;
// Any text/* type (text/plain, text/csv, ...).
bool is_text_media_type(std::string_view content_type) noexcept;

}  // namespace relay::daemon::wire
