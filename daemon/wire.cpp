// SPDX-License-Identifier: MIT
#include "wire.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "json_strict.h"

namespace relay::daemon::wire {
namespace {

using json = nlohmann::json;

std::string quote(std::string_view s) { return json(std::string(s)).dump(); }

std::string_view id_or_null(std::string_view id_json) { return id_json.empty() ? "null" : id_json; }

// A small scanner over text the JSON parser has already accepted: no error handling needed.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_blanks(std::string_view t, size_t i) {
  while (i < t.size() && is_blank(t[i])) ++i;
  return i;
}

// `i` is at the opening quote; returns the index after the closing one.
size_t string_end(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\')
      ++i;
    else if (t[i] == '"')
      return i + 1;
  }
  return t.size();
}

// `i` is at the first character of a value; returns the index after its last.
size_t value_end(std::string_view t, size_t i) {
  if (i >= t.size()) return i;
  if (t[i] == '"') return string_end(t, i);
  if (t[i] == '{' || t[i] == '[') {
    size_t depth = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '"') {
        i = string_end(t, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return i;
  }
  while (i < t.size() && !is_blank(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i;
}

// {"offset": <uint64>, "epoch": "<string>"}
std::optional<StreamRef> stream_ref(const json& v) {
  if (!v.is_object()) return std::nullopt;
  auto off = v.find("offset");
  auto ep = v.find("epoch");
  if (off == v.end() || !off->is_number_unsigned() || ep == v.end() || !ep->is_string())
    return std::nullopt;
  return StreamRef{off->get<uint64_t>(), ep->get<std::string>()};
}

// The members of README "History and recovery": recover, presence_events (subscribe),
// since, limit (history). Returns why they are malformed, or nullopt.
std::optional<std::string> parse_history_members(const json& doc, Request* req) {
  const bool subscribe = req->op == Op::kSubscribe;
  if (auto it = doc.find(subscribe ? "recover" : "since"); it != doc.end()) {
    auto ref = stream_ref(*it);
    if (!ref) return std::string(subscribe ? "recover" : "since") + " must be {offset, epoch}";
    (subscribe ? req->recover : req->since) = std::move(*ref);
  }
  if (subscribe) {
    if (auto it = doc.find("presence_events"); it != doc.end()) {
      if (!it->is_boolean()) return "presence_events must be a boolean";
      req->presence_events = it->get<bool>();
    }
    return std::nullopt;
  }
  if (auto it = doc.find("limit"); it != doc.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0)
      return "limit must be a positive integer";
    req->limit = static_cast<uint32_t>(std::min<uint64_t>(it->get<uint64_t>(), kMaxHistoryLimit));
  }
  return std::nullopt;
}

}  // namespace

std::string quote_json(std::string_view s) { return quote(s); }

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

// Strict RFC 4648 §4 only: EVP_DecodeBlock alone skips leading blanks and trailing
// blanks, newlines and '-', and decodes '=' anywhere as zero bits, which would turn
// "QQ==\n\n\n\n" or "QQ==QUJD" into bytes the client never encoded.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t body = text.size();
  for (int i = 0; i < 2 && body > 0 && text[body - 1] == '='; ++i) --body;
  for (size_t i = 0; i < body; ++i) {
    const char ch = text[i];
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
    if (!ok) return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the zero bytes that padding stands for; drop them.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The deepest nesting of arrays and objects in JSON text (strings skipped). Checked before
// parsing: serialising a deeply nested value recurses, and a client must not be able to
// exhaust the stack with a 60 KiB message of brackets.
size_t nesting_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (ch == '\\')
        escaped = true;
      else if (ch == '"')
        in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::optional<std::string_view> member_text(std::string_view t, std::string_view key) {
  size_t i = skip_blanks(t, 0);
  if (i >= t.size() || t[i] != '{') return std::nullopt;
  i = skip_blanks(t, i + 1);
  while (i < t.size() && t[i] == '"') {
    const size_t key_end = string_end(t, i);
    const std::string_view raw = t.substr(i + 1, key_end - i - 2);
    // A key written with escapes ("d\u0061ta") is decoded; the common case is compared as is.
    bool match = raw == key;
    if (raw.find('\\') != std::string_view::npos) {
      const json decoded = json::parse(t.substr(i, key_end - i), nullptr, false);
      match = decoded.is_string() && decoded.get_ref<const std::string&>() == key;
    }
    const size_t start = skip_blanks(t, skip_blanks(t, key_end) + 1);  // past the ':'
    const size_t end = value_end(t, start);
    if (match) return t.substr(start, end - start);
    i = skip_blanks(t, end);
    if (i < t.size() && t[i] == ',') i = skip_blanks(t, i + 1);
  }
  return std::nullopt;
}

std::optional<std::string> check_json(std::string_view text) {
  const json_strict::Outcome parsed = json_strict::parse(text, nullptr);
  if (parsed.ok()) return std::nullopt;
  if (parsed.status == json_strict::Outcome::Status::kDuplicateKey)
    return "invalid JSON: duplicate key " + parsed.pointer;
  return "invalid JSON at byte " + std::to_string(parsed.byte) + ": " + parsed.message;
}

std::optional<Request> parse_request(std::string_view text, Error* err) {
  err->id_json.clear();
  if (nesting_depth(text) > kMaxDepth) {
    err->code = code::kBadRequest;
    err->reason = "JSON nested too deeply";
    return std::nullopt;
  }
  auto bad = [&](int c, std::string reason) -> std::optional<Request> {
    err->code = c;
    err->reason = std::move(reason);
    return std::nullopt;
  };
  json doc;
  const json_strict::Outcome parsed = json_strict::parse(text, &doc);
  if (parsed.status == json_strict::Outcome::Status::kSyntax)
    return bad(code::kBadRequest, "malformed JSON");
  if (parsed.status == json_strict::Outcome::Status::kDuplicateKey) {
    // The reply still carries the id when that is not the repeated key.
    const json lenient = json::parse(text.begin(), text.end(), nullptr, false);
    if (parsed.pointer != "/id" && lenient.is_object()) {
      if (auto it = lenient.find("id");
          it != lenient.end() && (it->is_number_integer() || it->is_string()))
        err->id_json = it->dump();
    }
    return bad(code::kBadRequest, "duplicate key " + parsed.pointer);
  }
  if (!doc.is_object()) return bad(code::kBadRequest, "a request is a JSON object");
  Request req;
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_number_integer() && !it->is_string())
      return bad(code::kBadRequest, "id must be a number or string");
    req.id_json = it->dump();
    err->id_json = req.id_json;
  }
  auto op = doc.find("op");
  if (op == doc.end() || !op->is_string()) return bad(code::kBadRequest, "missing op");
  const std::string& name = op->get_ref<const std::string&>();
  if (name == "ping") {
    req.op = Op::kPing;
    return req;
  }
  if (name == "auth" || name == "refresh") {  // {"op":"auth","token":"..."} (json_auth.cpp)
    req.op = name == "auth" ? Op::kAuth : Op::kRefresh;
    auto tok = doc.find("token");
    if (tok == doc.end() || !tok->is_string()) return bad(code::kBadRequest, "missing token");
    req.payload = tok->get<std::string>();
    return req;
  }
  if (name == "subscribe") {
    req.op = Op::kSubscribe;
  } else if (name == "unsubscribe") {
    req.op = Op::kUnsubscribe;
  } else if (name == "publish") {
    req.op = Op::kPublish;
  } else if (name == "history") {
    req.op = Op::kHistory;
  } else if (name == "presence") {
    req.op = Op::kPresence;
  } else {
    return bad(code::kUnknownOp, "unknown op");
  }
  auto ch = doc.find("channel");
  if (ch == doc.end() || !ch->is_string()) return bad(code::kBadRequest, "missing channel");
  req.channel = ch->get<std::string>();
  if (req.op == Op::kSubscribe || req.op == Op::kHistory) {
    if (auto why = parse_history_members(doc, &req)) return bad(code::kBadRequest, *why);
  }
  if (req.op != Op::kPublish) return req;

  auto data = doc.find("data");
  auto txt = doc.find("text");
  auto bin = doc.find("binary");
  int present = (data != doc.end()) + (txt != doc.end()) + (bin != doc.end());
  if (present != 1)
    return bad(code::kBadRequest, "publish needs exactly one of data, text, binary");
  if (data != doc.end()) {
    // Relayed verbatim: no re-encoding, so 2^100 keeps all 31 digits.
    req.kind = PayloadKind::kData;
    req.payload = std::string(member_text(text, "data").value_or("null"));
  } else if (txt != doc.end()) {
    if (!txt->is_string()) return bad(code::kBadRequest, "text must be a string");
    req.kind = PayloadKind::kText;
    req.payload = txt->get<std::string>();
  } else {
    if (!bin->is_string()) return bad(code::kBadRequest, "binary must be a base64 string");
    auto decoded = base64_decode(bin->get_ref<const std::string&>());
    if (!decoded) return bad(code::kBadRequest, "binary is not valid base64");
    req.kind = PayloadKind::kBinary;
    req.payload = std::move(*decoded);
  }
  return req;
}

std::string encode_ack(std::string_view id_json) {
  std::string out = "{\"id\":";
  out.append(id_or_null(id_json)).append(",\"ok\":true}");
  return out;
}

std::string encode_publish_ack(std::string_view id_json, size_t delivered, uint64_t offset) {
  std::string out = "{\"id\":";
  out.append(id_or_null(id_json)).append(",\"ok\":true,\"delivered\":");
  out.append(std::to_string(delivered));
  if (offset) out.append(",\"offset\":").append(std::to_string(offset));
  out.append("}");
  return out;
}

std::string encode_error(std::string_view id_json, int c, std::string_view reason) {
  std::string out = "{\"id\":";
  out.append(id_or_null(id_json)).append(",\"error\":{\"code\":").append(std::to_string(c));
  out.append(",\"reason\":").append(quote(reason)).append("}}");
  return out;
}

std::string encode_delivery(std::string_view channel, PayloadKind kind,
                            std::span<const std::byte> payload, uint64_t offset) {
  std::string out = "{\"channel\":";
  out.append(quote(channel));
  if (offset) out.append(",\"offset\":").append(std::to_string(offset));
  out.append(",");
  append_payload_member(&out, kind, payload);
  out.append("}");
  return out;
}

void append_payload_member(std::string* out, PayloadKind kind, std::span<const std::byte> payload) {
  std::string_view text = as_text(payload);
  switch (kind) {
    case PayloadKind::kData:
      out->append("\"data\":").append(text);  // already JSON text, spliced verbatim
      break;
    case PayloadKind::kText:
      // Text frames reaching here were validated as UTF-8 by the engine.
      out->append("\"text\":")
          .append(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
      break;
    case PayloadKind::kBinary:
      out->append("\"binary\":\"").append(base64_encode(payload)).append("\"");
      break;
  }
}

}  // namespace relay::daemon::wire
