// SPDX-License-Identifier: MIT
#include "auth/redact.h"

namespace relay::auth {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The parameter name, percent-decoded ('+' = space) and lower-cased.
std::string normalized_name(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '%' && i + 2 < name.size() && hex_value(name[i + 1]) >= 0 &&
        hex_value(name[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(name[i + 1]) * 16 + hex_value(name[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += c;
  }
  return out;
}

bool is_secret_name(std::string_view name) {
  std::string n = normalized_name(name);
  return n == "token" || n == "access_token";
}

}  // namespace

std::string redact_target(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view query = target.substr(q + 1);
  while (true) {
    size_t sep = query.find_first_of("&;");
    std::string_view param = query.substr(0, sep);
    size_t eq = param.find('=');
    if (eq != std::string_view::npos && is_secret_name(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out += "REDACTED";
    } else {
      out.append(param);
    }
    if (sep == std::string_view::npos) break;
    out += query[sep];
    query.remove_prefix(sep + 1);
  }
  return out;
}

}  // namespace relay::auth
