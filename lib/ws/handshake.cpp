// SPDX-License-Identifier: MIT
// HTTP/1.1 upgrade handshake (RFC 6455 §4 over RFC 9112 message syntax): a head
// parser with hard limits, the upgrade checks on both sides, the accept key, and the
// builders. No syscalls and no state; parsed values are views into the caller's bytes.
// The parser is re-run from the start on each call (as picohttpparser is without
// last_len); the head is at most HttpLimits::max_head_bytes, so that stays cheap.
#include "ws/handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "base/assert.h"
#include "base/sha1.h"
#include "ws/http_text.h"

namespace relay::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
constexpr bool is_tchar(unsigned char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
// RFC 9110 §5.5: field-vchar = VCHAR / obs-text; SP and HTAB inside a value.
constexpr bool is_field_char(unsigned char c) noexcept {
  return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7F);
}
using http_text::iequals;
using http_text::is_blank;
using http_text::lower;
using http_text::trim;

bool all_of(std::string_view s, bool (*pred)(unsigned char)) noexcept {
  for (char c : s)
    if (!pred(static_cast<unsigned char>(c))) return false;
  return true;
}

// "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3).
bool is_http_version(std::string_view v) noexcept {
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
         v[7] >= '0' && v[7] <= '9';
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
bool parse_request_line(std::string_view line, HttpHead* out) noexcept {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  out->method = line.substr(0, sp1);
  out->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out->version = line.substr(sp2 + 1);
  if (out->method.empty() || !all_of(out->method, [](unsigned char c) { return is_tchar(c); }))
    return false;
  // The target is visible ASCII without spaces (RFC 9112 §3.2, RFC 3986 characters).
  if (out->target.empty() ||
      !all_of(out->target, [](unsigned char c) { return c >= 0x21 && c <= 0x7E; }))
    return false;
  return is_http_version(out->version);
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
// The SP before an empty reason is optional here, as many servers omit it.
bool parse_status_line(std::string_view line, HttpHead* out) noexcept {
  if (line.size() < 12 || line[8] != ' ') return false;
  out->version = line.substr(0, 8);
  if (!is_http_version(out->version)) return false;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return false;
  out->status = status;
  if (line.size() > 12) {
    if (line[12] != ' ') return false;
    out->reason = line.substr(13);
    if (!all_of(out->reason, [](unsigned char c) { return is_field_char(c); })) return false;
  }
  return true;
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. No whitespace before
// the colon (§5.1: MUST reject with 400) and no obs-fold (§5.2: MAY reject).
bool parse_field_line(std::string_view line, HttpHeader* out) noexcept {
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  out->name = line.substr(0, colon);
  if (!all_of(out->name, [](unsigned char c) { return is_tchar(c); })) return false;
  out->value = trim(line.substr(colon + 1));
  return all_of(out->value, [](unsigned char c) { return is_field_char(c); });
}

// Shared by requests and responses: line by line up to the empty line, within limits.
HttpParse parse_head(std::span<const std::byte> in, const HttpLimits& limits, HttpHead* out,
                     size_t* consumed, bool request) noexcept {
  // Reset field by field: clearing the whole header array would cost more than parsing.
  out->method = out->target = out->version = out->reason = {};
  out->status = 0;
  out->header_count = 0;
  *consumed = 0;
  const char* base = reinterpret_cast<const char*>(in.data());
  const size_t max_bytes = limits.max_head_bytes;
  const size_t max_headers = std::min(limits.max_headers, kMaxHttpHeaders);
  // Only the first max_bytes bytes may hold the head, terminator included.
  const size_t avail = std::min(in.size(), max_bytes);
  size_t pos = 0;
  bool first = true;
  for (;;) {
    const void* nl = std::memchr(base + pos, '\n', avail - pos);
    if (nl == nullptr) return in.size() >= max_bytes ? HttpParse::kTooLarge : HttpParse::kNeedMore;
    const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - base);
    std::string_view line(base + pos, end - pos);
    // RFC 9112 §2.2: lines end in CRLF. A bare LF ends a response's line; in a request
    // it is refused (a server MAY, and lenient parsing is how requests get smuggled past
    // a proxy that reads the line ends differently). A CR anywhere else is not a field
    // character and fails below.
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    else if (request)
      return HttpParse::kBad;
    pos = end + 1;
    if (first) {
      // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
      // request-line; we ignore any number (they count against the byte limit).
      if (line.empty() && request) continue;
      if (!(request ? parse_request_line(line, out) : parse_status_line(line, out)))
        return HttpParse::kBad;
      if (request && out->version != "HTTP/1.1" && out->version != "HTTP/1.0")
        return HttpParse::kVersion;
      first = false;
      continue;
    }
    if (line.empty()) break;                             // end of the head
    if (is_blank(line.front())) return HttpParse::kBad;  // obs-fold
    if (out->header_count == max_headers) return HttpParse::kTooLarge;
    if (!parse_field_line(line, &out->headers[out->header_count])) return HttpParse::kBad;
    ++out->header_count;
  }
  *consumed = pos;
  return HttpParse::kComplete;
}

// Counts header lines with this name (duplicates of single-valued fields are errors).
size_t count_header(const HttpHead& h, std::string_view name) noexcept {
  size_t n = 0;
  for (size_t i = 0; i < h.header_count; ++i) n += iequals(h.headers[i].name, name);
  return n;
}

// RFC 6455 §4.1: the key is 16 random bytes, base64-encoded: 22 alphabet characters
// and "==". Anything else cannot decode to exactly 16 bytes.
bool is_valid_key(std::string_view key) noexcept {
  if (key.size() != kKeyChars || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    char c = key[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Calls fn(token) for each non-empty element of a comma-separated list (RFC 9110
// §5.6.1: elements are separated by "," with optional whitespace; empty ones ignored).
// Stops early and returns true when fn returns true.
template <typename F>
bool any_token(std::string_view list, F&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tok = trim(list.substr(0, comma));
    if (!tok.empty() && fn(tok)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void append_header(std::string* out, std::string_view name, std::string_view value) {
  out->append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

std::string_view HttpHead::header(std::string_view name) const noexcept {
  for (size_t i = 0; i < header_count; ++i)
    if (iequals(headers[i].name, name)) return headers[i].value;
  return {};
}

bool HttpHead::has_header(std::string_view name) const noexcept {
  for (size_t i = 0; i < header_count; ++i)
    if (iequals(headers[i].name, name)) return true;
  return false;
}

HttpParse parse_request(std::span<const std::byte> in, const HttpLimits& limits, HttpHead* out,
                        size_t* consumed) noexcept {
  return parse_head(in, limits, out, consumed, true);
}

HttpParse parse_response(std::span<const std::byte> in, const HttpLimits& limits, HttpHead* out,
                         size_t* consumed) noexcept {
  return parse_head(in, limits, out, consumed, false);
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  return any_token(list, [token](std::string_view t) { return iequals(t, token); });
}

int check_upgrade(const HttpHead& req, UpgradeRequest* out) noexcept {
  *out = UpgradeRequest{};
  // RFC 6455 §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
  if (req.method != "GET") return 400;
  if (req.version.size() != 8 || req.version[5] != '1' || req.version[7] < '1') return 400;
  // RFC 9112 §3.2: exactly one Host header, else 400. RFC 6455 §4.2.1 item 2.
  if (count_header(req, "Host") != 1 || req.header("Host").empty()) return 400;
  // RFC 6455 §4.2.1 items 3-4: Upgrade contains "websocket", Connection contains
  // "Upgrade", both case-insensitive token lists ("keep-alive, Upgrade" from Firefox).
  if (!has_token(req.header("Upgrade"), "websocket")) return 400;
  if (!has_token(req.header("Connection"), "Upgrade")) return 400;
  // RFC 6455 §4.2.2 / §4.4: a version we do not speak is answered with 426 and
  // "Sec-WebSocket-Version: 13". A missing version is treated the same way: pre-RFC
  // (hixie) clients send none, and 426 tells them what we do speak.
  // RFC 6455 §11.3.5: the header "MUST NOT appear more than once in an HTTP request".
  const size_t versions = count_header(req, "Sec-WebSocket-Version");
  if (versions > 1) return 400;
  if (req.header("Sec-WebSocket-Version") != "13") return 426;
  // RFC 6455 §4.2.1 item 5 and §11.3.1: one key that decodes to 16 bytes.
  if (count_header(req, "Sec-WebSocket-Key") != 1) return 400;
  const std::string_view key = req.header("Sec-WebSocket-Key");
  if (!is_valid_key(key)) return 400;
  out->target = req.target;
  out->host = req.header("Host");
  out->origin = req.header("Origin");  // RFC 6455 §4.2.1 item 7 (optional)
  out->key = key;
  out->protocols = req.header("Sec-WebSocket-Protocol");     // §4.2.1 item 8
  out->extensions = req.header("Sec-WebSocket-Extensions");  // §4.2.1 item 9
  return 0;
}

std::string_view choose_subprotocol(std::string_view offer,
                                    std::span<const std::string_view> supported) noexcept {
  // RFC 6455 §4.2.2 step 5.4: the server picks one of the client's values (or none).
  // The client lists them in its order of preference, so the first match wins.
  std::string_view chosen;
  any_token(offer, [&](std::string_view t) {
    for (std::string_view s : supported) {
      if (t == s) {
        chosen = t;
        return true;
      }
    }
    return false;
  });
  return chosen;
}

bool compute_accept(std::string_view key, char out[kAcceptChars + 1]) noexcept {
  out[0] = '\0';
  if (!is_valid_key(key)) return false;
  // RFC 6455 §4.2.2 step 5.4 / §1.3: base64(SHA-1(key + GUID)).
  unsigned char input[kKeyChars + kGuid.size()];
  std::memcpy(input, key.data(), kKeyChars);
  std::memcpy(input + kKeyChars, kGuid.data(), kGuid.size());
  uint8_t digest[kSha1Bytes];
  sha1(std::as_bytes(std::span(input)), digest);  // not OpenSSL's: base/sha1.h says why
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), digest, sizeof(digest));
  RELAY_ASSERT(n == static_cast<int>(kAcceptChars));  // EVP_EncodeBlock NUL-terminates
  return true;
}

void make_key(char out[kKeyChars + 1]) noexcept {
  // RFC 6455 §4.1 item 7: a nonce of 16 random bytes, base64-encoded.
  unsigned char nonce[16];
  const int ok = RAND_bytes(nonce, sizeof(nonce));
  RELAY_ASSERT(ok == 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), nonce, sizeof(nonce));
  RELAY_ASSERT(n == static_cast<int>(kKeyChars));
}

std::string_view status_reason(int status) noexcept {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

bool negotiate_deflate(const HttpHead& req, DeflateParams* agreed, std::string* response) {
  // RFC 6455 §9.1: several Sec-WebSocket-Extensions lines form one list, in order.
  for (size_t i = 0; i < req.header_count; ++i)
    if (iequals(req.headers[i].name, "Sec-WebSocket-Extensions") &&
        negotiate_deflate(req.headers[i].value, agreed, response))
      return true;
  return false;
}

void build_accept_response(std::string* out, std::string_view accept, std::string_view protocol,
                           std::string_view extensions) {
  // RFC 6455 §4.2.2 step 5.
  out->clear();
  out->append("HTTP/1.1 101 Switching Protocols\r\n");
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Accept", accept);
  if (!protocol.empty()) append_header(out, "Sec-WebSocket-Protocol", protocol);
  if (!extensions.empty()) append_header(out, "Sec-WebSocket-Extensions", extensions);
  out->append("\r\n");
}

void build_error_response(std::string* out, int status, std::string_view body,
                          std::string_view extra_headers) {
  out->clear();
  out->append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out->append(status_reason(status)).append("\r\n");
  append_header(out, "Content-Type", "text/plain; charset=utf-8");
  append_header(out, "Content-Length", std::to_string(body.size()));
  append_header(out, "Connection", "close");
  if (status == 426) {
    // RFC 6455 §4.4: name the versions we speak; RFC 9110 §15.5.22: a 426 carries Upgrade.
    append_header(out, "Upgrade", "websocket");
    append_header(out, "Sec-WebSocket-Version", "13");
  }
  out->append(extra_headers);
  out->append("\r\n");
  out->append(body);
}

void build_client_request(std::string* out, std::string_view resource, std::string_view host,
                          std::string_view key, std::string_view protocols, std::string_view origin,
                          std::string_view extensions) {
  // RFC 6455 §4.1 items 1-10.
  out->clear();
  out->append("GET ").append(resource).append(" HTTP/1.1\r\n");
  append_header(out, "Host", host);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Key", key);
  append_header(out, "Sec-WebSocket-Version", "13");
  if (!protocols.empty()) append_header(out, "Sec-WebSocket-Protocol", protocols);
  if (!origin.empty()) append_header(out, "Origin", origin);
  if (!extensions.empty()) append_header(out, "Sec-WebSocket-Extensions", extensions);
  out->append("\r\n");
}

bool check_upgrade_response(const HttpHead& resp, std::string_view key,
                            std::string_view offered_protocols, DeflateParams* deflate) noexcept {
  // RFC 6455 §4.1, the client's checks of the server's handshake, items 1-6.
  if (resp.status != 101) return false;                                // item 1
  if (!has_token(resp.header("Upgrade"), "websocket")) return false;   // item 2
  if (!has_token(resp.header("Connection"), "Upgrade")) return false;  // item 3
  char expected[kAcceptChars + 1];                                     // item 4
  if (!compute_accept(key, expected)) return false;
  if (count_header(resp, "Sec-WebSocket-Accept") != 1 ||
      resp.header("Sec-WebSocket-Accept") != std::string_view(expected, kAcceptChars))
    return false;
  // Item 5: an extension only if we offered it: permessage-deflate, answered once
  // (RFC 7692 §5.1).
  if (deflate) *deflate = DeflateParams{};
  if (resp.has_header("Sec-WebSocket-Extensions")) {
    if (!deflate || count_header(resp, "Sec-WebSocket-Extensions") != 1) return false;
    if (!accept_deflate_response(resp.header("Sec-WebSocket-Extensions"), deflate)) return false;
  }
  // Item 6: a protocol only if we offered it, and then one of ours.
  if (resp.has_header("Sec-WebSocket-Protocol")) {
    if (count_header(resp, "Sec-WebSocket-Protocol") != 1) return false;
    const std::string_view chosen = resp.header("Sec-WebSocket-Protocol");
    // Subprotocol names are compared exactly (RFC 6455 §11.3.4 lists tokens).
    if (!any_token(offered_protocols, [chosen](std::string_view t) { return t == chosen; }))
      return false;
  }
  return true;
}

}  // namespace relay::ws
