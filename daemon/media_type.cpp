// SPDX-License-Identifier: MIT
#include "media_type.h"

#include "ws/http_text.h"

namespace relay::daemon::wire {
namespace {

using ws::http_text::iequals;

// "type/subtype" without parameters or surrounding blanks.
std::string_view essence(std::string_view v) {
  return ws::http_text::trim(v.substr(0, v.find(';')));
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

}  // namespace

bool is_json_media_type(std::string_view content_type) noexcept {
  const std::string_view t = essence(content_type);
  if (iequals(t, "application/json")) return true;
  // application/<name>+json with a non-empty name and no other '/'.
  constexpr std::string_view kApp = "application/";
  return istarts_with(t, kApp) && iends_with(t, "+json") && t.size() > kApp.size() + 5 &&
         t.find('/', kApp.size()) == std::string_view::npos;
}

bool is_text_media_type(std::string_view content_type) noexcept {
  const std::string_view t = essence(content_type);
  constexpr std::string_view kText = "text/";
  return istarts_with(t, kText) && t.size() > kText.size() &&
         t.find('/', kText.size()) == std::string_view::npos;
}

}  // namespace relay::daemon::wire
