// SPDX-License-Identifier: MIT
#include "json_strict.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace relay::daemon::json_strict {
namespace {

using json = nlohmann::json;
using DomBuilder = nlohmann::detail::json_sax_dom_parser<json>;

// nlohmann's what() starts with "[json.exception.parse_error.101] "; keep the rest.
std::string strip_exception_id(const char* what) {
  std::string s(what);
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find("] ");
    if (close != std::string::npos) s.erase(0, close + 2);
  }
  return s;
}

// A SAX handler that tracks the keys of every open object (and the path to it, for the
// pointer) and forwards each event to the DOM builder when there is one.
class StrictSax {
 public:
  StrictSax(json* doc, Outcome* out) : out_(out) {
    if (doc) dom_.emplace(*doc, /*allow_exceptions=*/false);
  }

  bool null() { return element() && (!dom_ || dom_->null()); }
  bool boolean(bool v) { return element() && (!dom_ || dom_->boolean(v)); }
  bool number_integer(json::number_integer_t v) {
    return element() && (!dom_ || dom_->number_integer(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return element() && (!dom_ || dom_->number_unsigned(v));
  }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return element() && (!dom_ || dom_->number_float(v, s));
  }
  bool string(json::string_t& v) { return element() && (!dom_ || dom_->string(v)); }
  bool binary(json::binary_t& v) { return element() && (!dom_ || dom_->binary(v)); }

  bool start_object(std::size_t n) {
    if (!element()) return false;
    frames_.push_back(Frame{true, {}, {}, 0});
    return !dom_ || dom_->start_object(n);
  }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    // The first repeat is recorded and parsing goes on: a syntax error later in the text is
    // the more basic problem and wins.
    if (std::find(f.keys.begin(), f.keys.end(), k) == f.keys.end()) {
      f.keys.push_back(k);
    } else if (out_->status == Outcome::Status::kOk) {
      out_->status = Outcome::Status::kDuplicateKey;
      for (size_t i = 0; i + 1 < frames_.size(); ++i) out_->pointer += "/" + frames_[i].token;
      out_->pointer += "/" + escape_token(k);
    }
    f.token = escape_token(k);
    return !dom_ || dom_->key(k);
  }
  bool end_object() {
    frames_.pop_back();
    return !dom_ || dom_->end_object();
  }
  bool start_array(std::size_t n) {
    if (!element()) return false;
    frames_.push_back(Frame{false, {}, {}, 0});
    return !dom_ || dom_->start_array(n);
  }
  bool end_array() {
    frames_.pop_back();
    return !dom_ || dom_->end_array();
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    out_->status = Outcome::Status::kSyntax;
    out_->pointer.clear();
    out_->byte = position;
    out_->message = strip_exception_id(ex.what());
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::vector<std::string> keys;  // objects are small: a linear search beats a set
    std::string token;              // the current child's reference token
    size_t next_index;              // arrays: the index of the next element
  };

  // A value starts: inside an array it is the next element.
  bool element() {
    if (!frames_.empty() && !frames_.back().object)
      frames_.back().token = std::to_string(frames_.back().next_index++);
    return true;
  }

  Outcome* out_;
  std::optional<DomBuilder> dom_;
  std::vector<Frame> frames_;
};

}  // namespace

std::string escape_token(std::string_view t) {
  std::string out;
  for (char c : t) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string Outcome::to_string() const {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kSyntax:
      return "malformed JSON at byte " + std::to_string(byte) + ": " + message;
    case Status::kDuplicateKey:
      return pointer + ": duplicate key";
  }
  return "?";
}

Outcome parse(std::string_view text, json* doc) {
  Outcome out;
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    out.status = Outcome::Status::kSyntax;
    out.byte = nul + 1;
    out.message = "a NUL byte";
  } else {
    StrictSax sax(doc, &out);
    const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
    if (!ok && out.status != Outcome::Status::kSyntax) {
      out.status = Outcome::Status::kSyntax;  // the DOM builder refused (should not happen)
      out.message = "cannot build the document";
    }
  }
  if (!out.ok() && doc) *doc = json(json::value_t::discarded);
  return out;
}

}  // namespace relay::daemon::json_strict
