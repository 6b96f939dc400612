// SPDX-License-Identifier: MIT
// JsonLine: builds the one-line JSON object each scenario prints. Keys and string
// values are ours (ASCII without quotes or backslashes), so no escaping is needed.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace relay::bench {

class JsonLine {
 public:
  JsonLine() : s_(1, '{') {}
  JsonLine& str(std::string_view key, std::string_view v) {
    std::string q;
    q.reserve(v.size() + 2);
    q.push_back('"');
    q.append(v);
    q.push_back('"');
    return raw(key, q);
  }
  JsonLine& num(std::string_view key, double v, int decimals = 3) {
    if (!std::isfinite(v)) return raw(key, "null");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return raw(key, buf);
  }
  JsonLine& integer(std::string_view key, uint64_t v) { return raw(key, std::to_string(v)); }
  JsonLine& boolean(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonLine& null(std::string_view key) { return raw(key, "null"); }
  // A value that is already JSON text (e.g. another JsonLine's finish()).
  JsonLine& json(std::string_view key, std::string_view text) { return raw(key, text); }
  JsonLine& begin(std::string_view key) {
    comma();
    s_.push_back('"');
    s_.append(key);
    s_.append("\":{");
    first_ = true;
    return *this;
  }
  JsonLine& end() {
    s_ += "}";
    first_ = false;
    return *this;
  }
  std::string finish() { return s_ + "}"; }

 private:
  JsonLine& raw(std::string_view key, std::string_view v) {
    comma();
    s_ += "\"";
    s_ += key;
    s_ += "\":";
    s_ += v;
    return *this;
  }
  void comma() {
    if (!first_) s_ += ",";
    first_ = false;
  }
  std::string s_;
  bool first_ = true;
};

}  // namespace relay::bench
