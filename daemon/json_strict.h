// SPDX-License-Identifier: MIT
// Strict JSON parsing for the config file and /ws requests: nlohmann's parser keeps the last of
// two equal keys in an object ({"op":"publish","op":"subscribe"} subscribes), which hides
// mistakes and lets two readers of one text disagree. Here a repeated key is an error naming
// its JSON pointer. One pass (nlohmann's SAX interface), optionally building the document.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace relay::daemon::json_strict {

struct Outcome {
  enum class Status : uint8_t { kOk, kSyntax, kDuplicateKey };
  Status status = Status::kOk;
  size_t byte = 0;      // kSyntax: the byte (1-based) where parsing stopped
  std::string message;  // kSyntax: nlohmann's message without its "[json.exception...]" id
  std::string pointer;  // kDuplicateKey: the JSON pointer of the repeated key ("/limits/x")
  bool ok() const noexcept { return status == Status::kOk; }
  // "malformed JSON at byte 17: ..." / "/limits/max_connections: duplicate key"
  std::string to_string() const;
};

// Parses `text`; fills *doc when it is not null (discarded on failure). A NUL byte is a syntax
// error (nlohmann's lexer would take it for the end of input and ignore what follows).
Outcome parse(std::string_view text, nlohmann::json* doc);

// RFC 6901 escaping of one reference token: '~' -> "~0", '/' -> "~1".
std::string escape_token(std::string_view token);

}  // namespace relay::daemon::json_strict
