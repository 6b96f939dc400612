// SPDX-License-Identifier: MIT
// HTTP/1.1 upgrade (RFC 6455 §4, RFC 9112): request and response parsing and building,
// Sec-WebSocket-Key / Accept, token lists, subprotocol choice. No syscalls, no state.
// Parsed values are views into the caller's buffer.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "ws/deflate_offer.h"

namespace relay::ws {

struct HttpHeader {
  std::string_view name;
  std::string_view value;  // leading and trailing blanks trimmed
};

constexpr size_t kMaxHttpHeaders = 128;  // hard ceiling of HttpLimits::max_headers

struct HttpLimits {
  size_t max_head_bytes = 8192;  // request line + headers + CRLFCRLF
  size_t max_headers = 64;       // <= kMaxHttpHeaders
};

enum class HttpParse : uint8_t {
  kComplete,  // the whole head is in; *consumed = its length
  kNeedMore,  // incomplete and within limits
  kBad,       // malformed: answer 400
  kTooLarge,  // head or header count over the limits: answer 431
  kVersion,   // parse_request: a request line of another version than HTTP/1.0 or
              // HTTP/1.1 (RFC 9110 §15.6.6): answer 505
};

struct HttpHead {
  // Request: method, target, version. Response: version, status, reason.
  std::string_view method;
  std::string_view target;
  std::string_view version;  // "HTTP/1.1"
  int status = 0;
  std::string_view reason;
  std::array<HttpHeader, kMaxHttpHeaders> headers;
  size_t header_count = 0;

  // First header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
};

// Requests are strict: every line ends in CRLF (a bare LF is kBad, RFC 9112 §2.2 allows
// refusing it), and the version is HTTP/1.0 or HTTP/1.1 (kVersion as soon as the request
// line is in). Responses accept a bare LF and any HTTP/x.y; the caller checks the version.
HttpParse parse_request(std::span<const std::byte> in, const HttpLimits& limits, HttpHead* out,
                        size_t* consumed) noexcept;
HttpParse parse_response(std::span<const std::byte> in, const HttpLimits& limits, HttpHead* out,
                         size_t* consumed) noexcept;

// True if the comma-separated token list contains `token` (case-insensitive), as
// `Connection: keep-alive, Upgrade`.
bool has_token(std::string_view list, std::string_view token) noexcept;

// What a server needs from a valid upgrade request.
struct UpgradeRequest {
  std::string_view target;
  std::string_view host;
  std::string_view origin;  // empty when absent
  std::string_view key;
  std::string_view protocols;   // raw Sec-WebSocket-Protocol offer, empty when absent
  std::string_view extensions;  // raw Sec-WebSocket-Extensions offer (the first line)
};

// Checks a parsed request for a WebSocket upgrade (RFC 6455 §4.2.1).
// Returns 0 when valid, else the HTTP status to answer: 400 (bad request: missing or
// wrong Upgrade/Connection/Key/Host, method not GET, not HTTP/1.1) or 426 (version not 13).
int check_upgrade(const HttpHead& req, UpgradeRequest* out) noexcept;

// The first protocol of `offer` (client preference order) that `supported` contains,
// or empty when none matches.
std::string_view choose_subprotocol(std::string_view offer,
                                    std::span<const std::string_view> supported) noexcept;

constexpr size_t kKeyChars = 24;     // base64 of 16 bytes
constexpr size_t kAcceptChars = 28;  // base64 of a 20-byte SHA-1

// Sec-WebSocket-Accept for `key`; false when the key does not decode to 16 bytes.
bool compute_accept(std::string_view key, char out[kAcceptChars + 1]) noexcept;
// A fresh random Sec-WebSocket-Key (NUL-terminated).
void make_key(char out[kKeyChars + 1]) noexcept;

// permessage-deflate for a request (negotiate_deflate() over every Sec-WebSocket-Extensions
// line, in order): true with the agreed parameters and the answer's extension value.
bool negotiate_deflate(const HttpHead& req, DeflateParams* agreed, std::string* response);

// 101 Switching Protocols with the accept key; `protocol` empty = no header, `extensions`
// empty = no Sec-WebSocket-Extensions header.
void build_accept_response(std::string* out, std::string_view accept, std::string_view protocol,
                           std::string_view extensions = {});
// An error answer with a short text body and `Connection: close`; 426 carries
// `Sec-WebSocket-Version: 13`. `extra_headers` are whole "Name: value\r\n" lines.
void build_error_response(std::string* out, int status, std::string_view body,
                          std::string_view extra_headers = {});
std::string_view status_reason(int status) noexcept;
// The client's GET request. `protocols` empty = no Sec-WebSocket-Protocol header;
// `extensions` (e.g. deflate_client_offer()) empty = no Sec-WebSocket-Extensions header.
void build_client_request(std::string* out, std::string_view resource, std::string_view host,
                          std::string_view key, std::string_view protocols = {},
                          std::string_view origin = {}, std::string_view extensions = {});
// Checks a server's answer (RFC 6455 §4.1): 101, Upgrade, Connection, the accept key
// for `key`, and a protocol only if one was offered. True when valid. An extension in
// the answer is valid only as permessage-deflate to our offer: pass `deflate` when
// deflate_client_offer() was sent; it gets what was agreed (enabled = false: none).
bool check_upgrade_response(const HttpHead& resp, std::string_view key,
                            std::string_view offered_protocols = {},
                            DeflateParams* deflate = nullptr) noexcept;

}  // namespace relay::ws
