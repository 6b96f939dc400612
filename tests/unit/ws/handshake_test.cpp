// SPDX-License-Identifier: MIT
// HTTP upgrade handshake (lib/ws/handshake.cpp): parsing with limits, upgrade checks
// (400/426), the RFC 6455 accept-key vector, real browser requests, and the builders.
#include "ws/handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "browser_requests.h"
#include "test_util.h"

namespace relay::ws {
namespace {

using test::bytes;

using test::kChromeRequest;

// Firefox's shape: a Connection token list and lower-case-ish values.
const std::string kFirefoxRequest =
    "GET /ws HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Origin: http://localhost:8080\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "Sec-Fetch-Mode: websocket\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "Upgrade: websocket\r\n"
    "\r\n";

// The RFC 6455 §1.3 / §4.2.2 example request.
const std::string kRfcRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

HttpParse parse(const std::string& text, HttpHead* head, size_t* consumed = nullptr,
                const HttpLimits& limits = {}) {
  size_t c = 0;
  HttpParse r = parse_request(bytes(text), limits, head, &c);
  if (consumed) *consumed = c;
  return r;
}

// Parses `text` (must be complete) and runs check_upgrade.
int upgrade_status(const std::string& text, UpgradeRequest* up = nullptr) {
  HttpHead head;
  EXPECT_EQ(parse(text, &head), HttpParse::kComplete) << text;
  UpgradeRequest tmp;
  return check_upgrade(head, up ? up : &tmp);
}

// `text` with the header line starting with `name:` replaced by `line` (or removed).
std::string with_header(std::string text, std::string_view name, std::string_view line) {
  size_t pos = text.find("\r\n" + std::string(name) + ":");
  if (pos != std::string::npos) {
    size_t end = text.find("\r\n", pos + 2);
    text.erase(pos + 2, end - pos);
  }
  if (!line.empty()) text.insert(text.find("\r\n") + 2, std::string(line) + "\r\n");
  return text;
}

TEST(AcceptKey, RfcVector) {
  char out[kAcceptChars + 1];
  ASSERT_TRUE(compute_accept("dGhlIHNhbXBsZSBub25jZQ==", out));
  EXPECT_STREQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(AcceptKey, RejectsKeysThatAreNotSixteenBytes) {
  char out[kAcceptChars + 1];
  EXPECT_FALSE(compute_accept("", out));
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZQ=", out));    // 23 chars
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZQ", out));     // no padding
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZQ===", out));  // 25 chars
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZ===", out));   // 15 bytes + pad
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZQAA", out));   // 18 bytes
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25j*Q==", out));   // not base64
  EXPECT_FALSE(compute_accept("dGhlIHNhbXBsZSBub25jZQ==\r", out));
  EXPECT_TRUE(compute_accept("AAAAAAAAAAAAAAAAAAAAAA==", out));
  EXPECT_TRUE(compute_accept("+/+/+/+/+/+/+/+/+/+/+w==", out));
}

TEST(AcceptKey, MadeKeysAreValidAndFresh) {
  char a[kKeyChars + 1], b[kKeyChars + 1], acc[kAcceptChars + 1];
  make_key(a);
  make_key(b);
  EXPECT_EQ(std::strlen(a), kKeyChars);
  EXPECT_TRUE(compute_accept(a, acc));
  EXPECT_STRNE(a, b);
}

TEST(ParseRequest, ChromeRequestWholeAndAtEverySplit) {
  for (size_t k = 0; k < kChromeRequest.size(); ++k) {
    HttpHead head;
    ASSERT_EQ(parse(kChromeRequest.substr(0, k), &head), HttpParse::kNeedMore) << k;
  }
  HttpHead head;
  size_t consumed = 0;
  const std::string with_frame = kChromeRequest + "\x81\x85";  // head views point into it
  ASSERT_EQ(parse(with_frame, &head, &consumed), HttpParse::kComplete);
  EXPECT_EQ(consumed, kChromeRequest.size());  // frame bytes after the head are left
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/chat?room=1");
  EXPECT_EQ(head.version, "HTTP/1.1");
  EXPECT_EQ(head.header_count, 12u);
  EXPECT_EQ(head.header("host"), "127.0.0.1:42313");
  EXPECT_EQ(head.header("SEC-WEBSOCKET-KEY"), "sbtGO+vD9Yu9+FSvGtnPAA==");
  EXPECT_FALSE(head.has_header("Sec-WebSocket-Protocol"));
  UpgradeRequest up;
  ASSERT_EQ(check_upgrade(head, &up), 0);
  EXPECT_EQ(up.target, "/chat?room=1");
  EXPECT_EQ(up.host, "127.0.0.1:42313");
  EXPECT_EQ(up.origin, "http://127.0.0.1:42313");
  EXPECT_EQ(up.key, "sbtGO+vD9Yu9+FSvGtnPAA==");
  EXPECT_EQ(up.extensions, "permessage-deflate; client_max_window_bits");
  EXPECT_TRUE(up.protocols.empty());
}

TEST(ParseRequest, FirefoxConnectionTokenList) {
  UpgradeRequest up;
  ASSERT_EQ(upgrade_status(kFirefoxRequest, &up), 0);
  EXPECT_EQ(up.protocols, "chat, superchat");
  char acc[kAcceptChars + 1];
  ASSERT_TRUE(compute_accept(up.key, acc));
  EXPECT_STREQ(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ParseRequest, RfcExampleAndCaseInsensitiveHeaders) {
  EXPECT_EQ(upgrade_status(kRfcRequest), 0);
  const std::string odd =
      "GET / HTTP/1.1\r\nhOsT: x\r\nUPGRADE: WebSocket\r\nconnection: UPGRADE\r\n"
      "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n";
  EXPECT_EQ(upgrade_status(odd), 0);
}

TEST(ParseRequest, LeadingEmptyLinesAreSkipped) {
  const std::string req = "\r\n\r\n" + std::string(kRfcRequest);
  size_t consumed = 0;
  HttpHead head;
  ASSERT_EQ(parse(req, &head, &consumed), HttpParse::kComplete);
  EXPECT_EQ(consumed, req.size());
  UpgradeRequest up;
  EXPECT_EQ(check_upgrade(head, &up), 0);
}

// RFC 9112 §2.2: a request's lines end in CRLF; a bare LF anywhere is refused (400), as
// soon as the line it ends is in.
TEST(ParseRequest, BareLfIsBad) {
  const std::string lf =
      "GET / HTTP/1.1\nHost: x\nUpgrade: websocket\nConnection: Upgrade\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n";
  HttpHead head;
  EXPECT_EQ(parse(lf, &head), HttpParse::kBad);
  EXPECT_EQ(parse("GET / HTTP/1.1\n", &head), HttpParse::kBad);
  EXPECT_EQ(parse("\nGET / HTTP/1.1\r\n\r\n", &head), HttpParse::kBad);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\nAccept: */*\r\n\r\n", &head), HttpParse::kBad);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n\n", &head), HttpParse::kBad);  // the end
  // Only the CR of the last line is in: wait for its LF.
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r", &head), HttpParse::kNeedMore);
}

// RFC 9110 §15.6.6: 505 for a major version we do not speak. HTTP/1.0 is answered (the
// plain routes; an upgrade needs HTTP/1.1 and gets 400 from check_upgrade).
TEST(ParseRequest, OtherVersionsAre505) {
  HttpHead head;
  for (const char* text : {"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/0.9\r\n\r\n",
                           "GET / HTTP/1.2\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n"})
    EXPECT_EQ(parse(text, &head), HttpParse::kVersion) << text;
  // Known as soon as the request line is in.
  EXPECT_EQ(parse("GET / HTTP/3.0\r\nHost: x", &head), HttpParse::kVersion);
  EXPECT_EQ(parse("GET / HTTP/2.0", &head), HttpParse::kNeedMore);
  const std::string http10 = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";  // head views into it
  ASSERT_EQ(parse(http10, &head), HttpParse::kComplete);
  EXPECT_EQ(head.version, "HTTP/1.0");
  EXPECT_EQ(status_reason(505), "HTTP Version Not Supported");
}

TEST(ParseResponse, BareLfAndOtherVersionsAccepted) {
  HttpHead h;
  size_t c = 0;
  ASSERT_EQ(
      parse_response(bytes("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n"), {}, &h, &c),
      HttpParse::kComplete);
  EXPECT_EQ(h.header("upgrade"), "websocket");
  ASSERT_EQ(parse_response(bytes("HTTP/2.0 200 OK\r\n\r\n"), {}, &h, &c), HttpParse::kComplete);
  EXPECT_EQ(h.version, "HTTP/2.0");
}

TEST(CheckUpgrade, BadRequestsGet400) {
  EXPECT_EQ(upgrade_status("POST /chat HTTP/1.1" + kRfcRequest.substr(kRfcRequest.find("\r\n"))),
            400);
  EXPECT_EQ(upgrade_status("GET /chat HTTP/1.0" + kRfcRequest.substr(kRfcRequest.find("\r\n"))),
            400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Host", "")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Host", "Host:")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Protocol", "Host: b")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Upgrade", "")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Upgrade", "Upgrade: h2c")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Connection", "")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Connection", "Connection: keep-alive")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Connection", "Connection: upgraded")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Key", "")), 400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Key", "Sec-WebSocket-Key: abc")),
            400);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Protocol",
                                       "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==")),
            400);  // two keys
  EXPECT_EQ(upgrade_status(
                with_header(kRfcRequest, "Sec-WebSocket-Protocol", "Sec-WebSocket-Version: 13")),
            400);  // two versions
}

TEST(CheckUpgrade, WrongOrMissingVersionGets426) {
  EXPECT_EQ(
      upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")),
      426);
  EXPECT_EQ(upgrade_status(
                with_header(kRfcRequest, "Sec-WebSocket-Version", "Sec-WebSocket-Version: 14")),
            426);
  EXPECT_EQ(upgrade_status(with_header(kRfcRequest, "Sec-WebSocket-Version", "")), 426);
  std::string resp;
  build_error_response(&resp, 426, "version");
  HttpHead head;
  size_t consumed = 0;
  ASSERT_EQ(parse_response(bytes(resp), {}, &head, &consumed), HttpParse::kComplete);
  EXPECT_EQ(head.status, 426);
  EXPECT_EQ(head.reason, "Upgrade Required");
  EXPECT_EQ(head.header("Sec-WebSocket-Version"), "13");
  EXPECT_EQ(head.header("Content-Length"), "7");
  EXPECT_EQ(resp.substr(consumed), "version");
}

TEST(CheckUpgrade, ErrorResponse400) {
  std::string resp;
  build_error_response(&resp, 400, "bad", "X-Why: test\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_NE(resp.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(resp.find("\r\nX-Why: test\r\n"), std::string::npos);
  EXPECT_EQ(resp.find("Sec-WebSocket-Version"), std::string::npos);
  EXPECT_EQ(resp.substr(resp.size() - 7), "\r\n\r\nbad");
}

TEST(ParseRequest, TwoThousandHeadersAreTooLarge) {
  std::string req = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 2000; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  HttpHead head;
  EXPECT_EQ(parse(req, &head), HttpParse::kTooLarge);  // over 8 KiB
  HttpLimits roomy;
  roomy.max_head_bytes = 1 << 20;
  EXPECT_EQ(parse(req, &head, nullptr, roomy), HttpParse::kTooLarge);  // over the count
  // Fed piecewise, the answer never changes from kTooLarge once it is reached.
  bool too_large = false;
  for (size_t k = 0; k <= req.size(); k += 97) {
    HttpParse r = parse(req.substr(0, k), &head, nullptr, roomy);
    if (too_large) {
      EXPECT_EQ(r, HttpParse::kTooLarge);
    }
    too_large = r == HttpParse::kTooLarge;
    EXPECT_NE(r, HttpParse::kComplete);
  }
}

TEST(ParseRequest, HeaderCountAndByteLimitsAreExact) {
  HttpLimits lim;
  lim.max_headers = 3;
  std::string three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  HttpHead head;
  EXPECT_EQ(parse(three, &head, nullptr, lim), HttpParse::kComplete);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", &head, nullptr, lim),
            HttpParse::kTooLarge);
  lim.max_headers = 1000;  // capped at kMaxHttpHeaders
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxHttpHeaders; ++i) many += "A: 1\r\n";
  many += "\r\n";
  EXPECT_EQ(parse(many, &head, nullptr, lim), HttpParse::kTooLarge);

  HttpLimits bytes_lim;
  bytes_lim.max_head_bytes = three.size();
  EXPECT_EQ(parse(three, &head, nullptr, bytes_lim), HttpParse::kComplete);
  bytes_lim.max_head_bytes = three.size() - 1;
  EXPECT_EQ(parse(three, &head, nullptr, bytes_lim), HttpParse::kTooLarge);
  EXPECT_EQ(parse(three.substr(0, three.size() - 2), &head, nullptr, bytes_lim),
            HttpParse::kNeedMore);
  // A single 8 KiB header line with the default limit.
  std::string big = "GET / HTTP/1.1\r\nCookie: " + std::string(8200, 'c') + "\r\n\r\n";
  EXPECT_EQ(parse(big, &head), HttpParse::kTooLarge);
  std::string near = "GET / HTTP/1.1\r\nCookie: " + std::string(8000, 'c') + "\r\n\r\n";
  EXPECT_EQ(parse(near, &head), HttpParse::kComplete);
  EXPECT_EQ(head.header("cookie").size(), 8000u);
}

TEST(ParseRequest, MalformedHeadsAreBad) {
  const char* bad[] = {
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",            // space before colon (RFC 9112 §5.1)
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obs-fold
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
      "GET / HTTP/1.1\r\nBad\x01Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",  // bare CR inside a value
      "GET / HTTP/1\r\n\r\n",
      "GET / HTTP/1.1 \r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET /\r\n\r\n",
      " GET / HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "GET / FTP/1.1\r\n\r\n",
  };
  for (const char* text : bad) {
    HttpHead head;
    EXPECT_EQ(parse(text, &head), HttpParse::kBad) << text;
  }
  std::string nul("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29);
  HttpHead head;
  EXPECT_EQ(parse(nul, &head), HttpParse::kBad);
  // A bad request line is reported as soon as the line is complete.
  EXPECT_EQ(parse("GET / HTTP/9\r\n", &head), HttpParse::kBad);
}

TEST(ParseResponse, AcceptResponseRoundTrip) {
  char key[kKeyChars + 1];
  make_key(key);
  char accept[kAcceptChars + 1];
  ASSERT_TRUE(compute_accept(key, accept));
  std::string resp;
  build_accept_response(&resp, accept, "chat");
  for (size_t k = 0; k < resp.size(); ++k) {
    HttpHead h;
    size_t c;
    ASSERT_EQ(parse_response(bytes(resp.substr(0, k)), {}, &h, &c), HttpParse::kNeedMore) << k;
  }
  HttpHead head;
  size_t consumed = 0;
  ASSERT_EQ(parse_response(bytes(resp), {}, &head, &consumed), HttpParse::kComplete);
  EXPECT_EQ(consumed, resp.size());
  EXPECT_EQ(head.status, 101);
  EXPECT_EQ(head.reason, "Switching Protocols");
  EXPECT_TRUE(check_upgrade_response(head, key, "chat, superchat"));
  EXPECT_FALSE(check_upgrade_response(head, key, ""));           // not offered
  EXPECT_FALSE(check_upgrade_response(head, key, "superchat"));  // not one of ours
  EXPECT_FALSE(check_upgrade_response(head, "AAAAAAAAAAAAAAAAAAAAAA==", "chat"));  // other key
}

TEST(ParseResponse, ClientChecksEveryRequirement) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string good =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  auto ok = [&](const std::string& text) {
    HttpHead h;
    size_t c;
    EXPECT_EQ(parse_response(bytes(text), {}, &h, &c), HttpParse::kComplete) << text;
    return check_upgrade_response(h, key);
  };
  EXPECT_TRUE(ok(good));
  EXPECT_TRUE(ok(with_header(good, "Connection", "connection: keep-alive, upgrade")));
  EXPECT_FALSE(ok("HTTP/1.1 200 OK" + good.substr(good.find("\r\n"))));
  EXPECT_FALSE(ok(with_header(good, "Upgrade", "")));
  EXPECT_FALSE(ok(with_header(good, "Connection", "")));
  EXPECT_FALSE(ok(with_header(good, "Sec-WebSocket-Accept", "")));
  EXPECT_FALSE(ok(with_header(good, "Sec-WebSocket-Accept",
                              "Sec-WebSocket-Accept: x3pPLMBiTxaQ9kYGzzhZRbK+xOo=")));
  EXPECT_FALSE(ok(with_header(good, "X", "Sec-WebSocket-Extensions: permessage-deflate")));
  EXPECT_FALSE(ok(with_header(good, "X", "Sec-WebSocket-Protocol: chat")));
  HttpHead h;
  size_t c;
  EXPECT_EQ(parse_response(bytes("HTTP/1.1 101\r\n\r\n"), {}, &h, &c), HttpParse::kComplete);
  EXPECT_EQ(h.status, 101);
  EXPECT_EQ(parse_response(bytes("HTTP/1.1 1x1 OK\r\n\r\n"), {}, &h, &c), HttpParse::kBad);
  EXPECT_EQ(parse_response(bytes("HTTP/1.1  101 OK\r\n\r\n"), {}, &h, &c), HttpParse::kBad);
}

TEST(Tokens, HasTokenAndSubprotocolChoice) {
  EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(has_token("Upgrade", "Upgrade"));
  EXPECT_TRUE(has_token(" ,, upgrade ,", "Upgrade"));
  EXPECT_TRUE(has_token("a,\tb\t, websocket", "WebSocket"));
  EXPECT_FALSE(has_token("keep-alive", "upgrade"));
  EXPECT_FALSE(has_token("upgraded, x-upgrade", "upgrade"));
  EXPECT_FALSE(has_token("", "upgrade"));
  const std::string_view supported[] = {"superchat", "chat"};
  EXPECT_EQ(choose_subprotocol("chat, superchat", supported), "chat");  // client order wins
  EXPECT_EQ(choose_subprotocol("v2.json ,superchat", supported), "superchat");
  EXPECT_EQ(choose_subprotocol("CHAT", supported), "");  // names are exact
  EXPECT_EQ(choose_subprotocol("", supported), "");
}

TEST(Builders, ClientRequestPassesServerCheck) {
  char key[kKeyChars + 1];
  make_key(key);
  std::string req;
  build_client_request(&req, "/chat?x=1", "example.com:80", key, "chat", "http://example.com");
  UpgradeRequest up;
  ASSERT_EQ(upgrade_status(req, &up), 0);
  EXPECT_EQ(up.target, "/chat?x=1");
  EXPECT_EQ(up.host, "example.com:80");
  EXPECT_EQ(up.key, key);
  EXPECT_EQ(up.protocols, "chat");
  EXPECT_EQ(up.origin, "http://example.com");
  build_client_request(&req, "/", "h", key);
  HttpHead head;
  ASSERT_EQ(parse(req, &head), HttpParse::kComplete);
  EXPECT_FALSE(head.has_header("Sec-WebSocket-Protocol"));
  EXPECT_FALSE(head.has_header("Origin"));
  EXPECT_EQ(status_reason(101), "Switching Protocols");
  EXPECT_EQ(status_reason(431), "Request Header Fields Too Large");
}

}  // namespace
}  // namespace relay::ws
