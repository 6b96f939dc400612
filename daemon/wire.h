// SPDX-License-Identifier: MIT
// The multiplexed JSON protocol spoken on /ws (README "The JSON protocol on /ws"):
// parsing client requests and encoding acks, errors and deliveries. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace relay::daemon::wire {

enum class Op : uint8_t {
  kSubscribe,
  kUnsubscribe,
  kPublish,
  kPing,
  kHistory,
  kPresence,
  kAuth,
  kRefresh
};

// How a published message travels: its frame type and how /ws deliveries show it.
enum class PayloadKind : uint8_t {
  kData,    // any JSON value, as the exact text the publisher sent (a /ws `data` member or an
            // application/json HTTP body): /ws deliveries splice it in verbatim as "data",
            // raw subscribers get the text as a text frame
  kText,    // a string: a text frame
  kBinary,  // base64 on the wire: a binary frame
};

// Error codes of the protocol (HTTP-like, see README).
namespace code {
constexpr int kBadRequest = 400;
constexpr int kUnauthorized = 401;  // no valid token (json_auth.cpp)
constexpr int kForbidden = 403;
constexpr int kUnknownOp = 404;
constexpr int kAlreadySubscribed = 409;
constexpr int kGone = 410;  // history: the position given cannot be answered from
constexpr int kNotSubscribed = 412;
constexpr int kTooLarge = 413;
constexpr int kBadChannel = 422;
constexpr int kLimit = 429;
constexpr int kUnavailable = 503;  // the broker did not take a publish
}  // namespace code

// Requests nested deeper than this (arrays and objects) are refused with 400.
constexpr size_t kMaxDepth = 64;

// A position in a channel's stream, as a client sends it ("recover", "since").
struct StreamRef {
  uint64_t offset = 0;
  std::string epoch;
};

// The most publications one history request answers.
constexpr uint32_t kMaxHistoryLimit = 1000;

struct Request {
  Op op = Op::kPing;
  std::string id_json;  // the request's id as JSON text ("" = no id)
  std::string channel;
  PayloadKind kind = PayloadKind::kData;
  // data: its JSON text exactly as the client sent it (every digit of a number kept);
  // text: the string; binary: the decoded bytes; auth/refresh: the token
  std::string payload;
  // subscribe: "recover" and "presence_events"; history: "since" and "limit" (0 = not given,
  // at most kMaxHistoryLimit)
  std::optional<StreamRef> recover;
  std::optional<StreamRef> since;
  uint32_t limit = 0;
  bool presence_events = false;
};

struct Error {
  std::string id_json;  // "" = no id (encoded as null)
  int code = code::kBadRequest;
  std::string reason;
};

// Parses one text frame. Channel names are not validated here (the caller owns that rule).
// Returns nullopt and fills *err on a malformed request, a repeated key in any object of it
// (400: parsers disagree on which one wins) or an unknown op.
std::optional<Request> parse_request(std::string_view text, Error* err);

std::string encode_ack(std::string_view id_json);
std::string encode_publish_ack(std::string_view id_json, size_t delivered, uint64_t offset = 0);
std::string encode_error(std::string_view id_json, int code, std::string_view reason);

// A delivery to /ws subscribers, encoded once per published message.
// `offset` (channels with history) is included when not 0.
std::string encode_delivery(std::string_view channel, PayloadKind kind,
                            std::span<const std::byte> payload, uint64_t offset = 0);
// Appends `"data":…`, `"text":…` or `"binary":…` as deliveries carry a payload.
void append_payload_member(std::string* out, PayloadKind kind, std::span<const std::byte> payload);
// A JSON string literal for `s`.
std::string quote_json(std::string_view s);

// nullopt when `text` is one valid JSON value (RFC 8259, no repeated keys in an object), else
// "invalid JSON at byte 17: ..." for a 400 reply to an HTTP publish.
std::optional<std::string> check_json(std::string_view text);

// The exact text of member `key`'s value in a JSON object's text (nullopt: no such member).
// `object_text` must already be valid JSON without repeated keys (parse_request checked it).
std::optional<std::string_view> member_text(std::string_view object_text, std::string_view key);

std::string base64_encode(std::span<const std::byte> bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace relay::daemon::wire
