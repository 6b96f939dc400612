// SPDX-License-Identifier: MIT
// libFuzzer target: the /ws JSON protocol (daemon/wire.h) on arbitrary text frames.
// Input: the whole text of one frame (no chunking: a request is parsed only once its
// message is complete). Oracles (abort on violation):
//   - parse_request agrees with nlohmann on the document: malformed JSON, a non-object,
//     nesting deeper than kMaxDepth -> 400; op and channel are the document's own;
//   - a request repeating a key in any object -> 400 "duplicate key /pointer";
//   - a publish has exactly one payload kind; data is the exact JSON text the client sent
//     (a piece of the frame, valid UTF-8 since raw subscribers get it as a text frame); binary was
//     strict base64 (RFC 4648 §4) of exactly the decoded bytes, and they re-encode with
//     base64_encode to text that base64_decode turns back into the same bytes;
//   - encode_ack / encode_publish_ack / encode_error / encode_delivery produce JSON that
//     nlohmann parses, with the id, code, reason, channel and payload put in;
//   - base64_decode of the raw input, when it succeeds, obeys the same rules.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "fuzz_check.h"
#include "wire.h"
#include "ws/utf8.h"

namespace {

using json = nlohmann::json;
namespace wire = relay::daemon::wire;
using relay::as_bytes;

// nlohmann without exceptions; discarded = not JSON. Its lexer stops at a NUL byte as if
// the input ended there, but JSON text never holds one (RFC 8259 §7).
json parse(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return json::value_t::discarded;
  return json::parse(s.begin(), s.end(), nullptr, false);
}

// Same depth rule as wire.cpp, counted on the parsed value (iteratively, no recursion).
size_t value_depth(const json& root) {
  struct Item {
    const json* v;
    size_t depth;
  };
  std::vector<Item> stack{{&root, 0}};
  size_t deepest = 0;
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    if (!it.v->is_structured()) continue;
    deepest = std::max(deepest, it.depth + 1);
    for (const auto& child : *it.v) stack.push_back({&child, it.depth + 1});
  }
  return deepest;
}

// Whether any object in `s` repeats a key, found with nlohmann's parser callback (a mechanism
// independent of wire.cpp's SAX handler). `s` must be valid JSON.
bool has_duplicate_key(std::string_view s) {
  std::vector<std::vector<std::string>> open_objects;
  bool dup = false;
  const json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      auto& keys = open_objects.back();
      const std::string& k = parsed.get_ref<const std::string&>();
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) dup = true;
      keys.push_back(k);
    }
    return true;
  };
  (void)json::parse(s.begin(), s.end(), cb, false);
  return dup;
}

// An id as encoded by the wire functions: "" -> null, else the id's own JSON text.
void check_id(const json& reply, std::string_view id_json) {
  FUZZ_CHECK(reply.is_object() && reply.contains("id"));
  if (id_json.empty()) {
    FUZZ_CHECK(reply["id"].is_null());
  } else {
    const json id = parse(id_json);
    FUZZ_CHECK(id.is_number_integer() || id.is_string());
    FUZZ_CHECK(reply["id"] == id);
  }
}

void check_error_encoding(const wire::Error& err) {
  FUZZ_CHECK(!err.reason.empty());
  const json e = parse(wire::encode_error(err.id_json, err.code, err.reason));
  FUZZ_CHECK(!e.is_discarded());
  check_id(e, err.id_json);
  FUZZ_CHECK(e["error"]["code"] == err.code);
  FUZZ_CHECK(e["error"]["reason"] == err.reason);
}

void check_base64_round_trip(std::string_view bytes) {
  const std::string b64 = wire::base64_encode(as_bytes(bytes));
  FUZZ_CHECK(b64.size() == 4 * ((bytes.size() + 2) / 3));
  const std::optional<std::string> back = wire::base64_decode(b64);
  FUZZ_CHECK(back && *back == bytes);
}

// RFC 4648 §4: the alphabet, then at most two '=' at the very end, length a multiple of 4.
bool is_strict_base64(std::string_view t) {
  if (t.size() % 4 != 0) return false;
  size_t pad = 0;
  while (pad < 2 && pad < t.size() && t[t.size() - 1 - pad] == '=') ++pad;
  return std::all_of(t.begin(), t.end() - static_cast<std::ptrdiff_t>(pad), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  });
}

// base64_decode accepted `b64` and returned `bytes`: the text was base64 and no padding
// (or anything else) became data.
void check_decoded(std::string_view b64, std::string_view bytes) {
  FUZZ_CHECK(is_strict_base64(b64));
  const size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
  FUZZ_CHECK(bytes.size() == 3 * b64.size() / 4 - pad);
  check_base64_round_trip(bytes);
}

void check_delivery(const wire::Request& req) {
  const std::string out = wire::encode_delivery(req.channel, req.kind, as_bytes(req.payload));
  const json d = parse(out);
  FUZZ_CHECK(!d.is_discarded() && d.is_object() && d.size() == 2);
  FUZZ_CHECK(d["channel"] == req.channel);
  switch (req.kind) {
    case wire::PayloadKind::kData:
      FUZZ_CHECK(d["data"] == parse(req.payload));
      // Spliced verbatim: the delivery holds the publisher's exact text.
      FUZZ_CHECK(out.find(req.payload) != std::string::npos);
      break;
    case wire::PayloadKind::kText:
      FUZZ_CHECK(d["text"] == req.payload);
      break;
    case wire::PayloadKind::kBinary: {
      FUZZ_CHECK(d["binary"].is_string());
      const std::optional<std::string> bytes = wire::base64_decode(d["binary"].get<std::string>());
      FUZZ_CHECK(bytes && *bytes == req.payload);
      break;
    }
  }
}

void check_request(std::string_view text, const json& doc, const wire::Request& req) {
  FUZZ_CHECK(!doc.is_discarded() && doc.is_object());
  FUZZ_CHECK(value_depth(doc) <= wire::kMaxDepth);
  // The id: absent, or an integer or a string, kept as its JSON text.
  if (doc.contains("id")) {
    FUZZ_CHECK(parse(req.id_json) == doc["id"]);
  } else {
    FUZZ_CHECK(req.id_json.empty());
  }
  const std::string& op = doc["op"].get_ref<const std::string&>();
  const json ack = parse(wire::encode_ack(req.id_json));
  check_id(ack, req.id_json);
  FUZZ_CHECK(ack["ok"] == true);
  const json pack = parse(wire::encode_publish_ack(req.id_json, text.size()));
  check_id(pack, req.id_json);
  FUZZ_CHECK(pack["delivered"] == text.size());

  switch (req.op) {
    case wire::Op::kPing:
      FUZZ_CHECK(op == "ping" && req.channel.empty() && req.payload.empty());
      return;
    case wire::Op::kSubscribe:
    case wire::Op::kUnsubscribe:
      FUZZ_CHECK(op == (req.op == wire::Op::kSubscribe ? "subscribe" : "unsubscribe"));
      FUZZ_CHECK(doc["channel"] == req.channel && req.payload.empty());
      // recover: exactly as sent (an unsigned offset and a string epoch).
      FUZZ_CHECK(req.recover.has_value() ==
                 (req.op == wire::Op::kSubscribe && doc.contains("recover")));
      if (req.recover) FUZZ_CHECK(doc["recover"]["offset"] == req.recover->offset);
      return;
    case wire::Op::kHistory:
    case wire::Op::kPresence:
      FUZZ_CHECK(op == (req.op == wire::Op::kHistory ? "history" : "presence"));
      FUZZ_CHECK(doc["channel"] == req.channel && req.payload.empty());
      FUZZ_CHECK(req.limit <= wire::kMaxHistoryLimit);
      return;
    case wire::Op::kAuth:
    case wire::Op::kRefresh:
      FUZZ_CHECK(op == (req.op == wire::Op::kAuth ? "auth" : "refresh"));
      FUZZ_CHECK(doc["token"] == req.payload && req.channel.empty());
      return;
    case wire::Op::kPublish:
      break;
  }
  FUZZ_CHECK(op == "publish" && doc["channel"] == req.channel);
  const int kinds = doc.contains("data") + doc.contains("text") + doc.contains("binary");
  FUZZ_CHECK(kinds == 1);
  switch (req.kind) {
    case wire::PayloadKind::kData:
      FUZZ_CHECK(doc.contains("data") && parse(req.payload) == doc["data"]);
      // Verbatim: the exact text the client sent, a piece of the request, and valid JSON.
      FUZZ_CHECK(text.find(req.payload) != std::string_view::npos);
      FUZZ_CHECK(!wire::check_json(req.payload));
      // Raw subscribers get this JSON text as a text frame (RFC 6455 §5.6: UTF-8).
      FUZZ_CHECK(relay::ws::is_valid_utf8(as_bytes(req.payload)));
      break;
    case wire::PayloadKind::kText:
      FUZZ_CHECK(doc.contains("text") && doc["text"] == req.payload);
      FUZZ_CHECK(relay::ws::is_valid_utf8(as_bytes(req.payload)));
      break;
    case wire::PayloadKind::kBinary: {
      FUZZ_CHECK(doc.contains("binary") && doc["binary"].is_string());
      check_decoded(doc["binary"].get_ref<const std::string&>(), req.payload);
      break;
    }
  }
  check_delivery(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  wire::Error err;
  const std::optional<wire::Request> req = wire::parse_request(text, &err);
  // nlohmann's parser and its destructor are iterative, so a deep document is safe here;
  // only dump() and comparisons recurse, and those run below kMaxDepth.
  const json doc = parse(text);
  const bool too_deep = !doc.is_discarded() && value_depth(doc) > wire::kMaxDepth;
  const bool dup = !doc.is_discarded() && !too_deep && has_duplicate_key(text);
  if (req) {
    FUZZ_CHECK(!dup);
    check_request(text, doc, *req);
  } else {
    FUZZ_CHECK(err.code == wire::code::kBadRequest || err.code == wire::code::kUnknownOp);
    if (doc.is_discarded() || !doc.is_object() || too_deep || dup)
      FUZZ_CHECK(err.code == wire::code::kBadRequest);
    if (dup) {
      // A repeated key: refused before anything else; the id is kept when it is unambiguous.
      FUZZ_CHECK(err.reason.rfind("duplicate key /", 0) == 0);
      FUZZ_CHECK(err.id_json.empty() || (doc.is_object() && parse(err.id_json) == doc["id"]));
    } else if (!too_deep && !doc.is_discarded() && doc.is_object()) {
      // The id is read first, so every later error carries it (README: one reply per id).
      const auto id = doc.find("id");
      const bool good_id = id != doc.end() && (id->is_number_integer() || id->is_string());
      if (good_id) {
        FUZZ_CHECK(parse(err.id_json) == *id);
      } else {
        FUZZ_CHECK(err.id_json.empty());
      }
      const bool bad_id = id != doc.end() && !good_id;
      if (bad_id) FUZZ_CHECK(err.code == wire::code::kBadRequest);
      if (!bad_id && doc.contains("op") && doc["op"].is_string()) {
        const std::string& op = doc["op"].get_ref<const std::string&>();
        const bool known = op == "ping" || op == "subscribe" || op == "unsubscribe" ||
                           op == "publish" || op == "history" || op == "presence" || op == "auth" ||
                           op == "refresh";
        FUZZ_CHECK(known == (err.code == wire::code::kBadRequest));
        FUZZ_CHECK(op != "ping");  // only a bad id fails a ping
      }
    } else {
      FUZZ_CHECK(err.id_json.empty());
    }
    check_error_encoding(err);
  }
  if (const std::optional<std::string> bytes = wire::base64_decode(text)) {
    check_decoded(text, *bytes);
  }
  return 0;
}
