// SPDX-License-Identifier: MIT
// permessage-deflate negotiation (lib/ws/deflate_offer.cpp): each RFC 7692 §7.1 rule of an
// offer, the server's answer written out, and the client's check of an answer.
#include "ws/deflate_offer.h"

#include <gtest/gtest.h>

#include <string>

#include "ws/handshake.h"

namespace relay::ws {
namespace {

// The answer to an extensions header value, "" when declined.
std::string answer(std::string_view offer, DeflateParams* agreed = nullptr) {
  DeflateParams p;
  std::string response;
  if (!negotiate_deflate(offer, &p, &response)) {
    EXPECT_FALSE(p.enabled);
    return "";
  }
  EXPECT_TRUE(p.enabled);
  if (agreed) *agreed = p;
  return response;
}

TEST(DeflateOffer, BrowsersAndLibraries) {
  // Chromium and Firefox.
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"),
            "permessage-deflate; server_no_context_takeover");
  // Node ws (perMessageDeflate: true).
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"),
            "permessage-deflate; server_no_context_takeover");
  // python3-websockets (compression="deflate").
  DeflateParams p;
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=12; server_max_window_bits=12", &p),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; "
            "client_max_window_bits=12");
  EXPECT_EQ(p.server_max_window_bits, 12);
  EXPECT_EQ(p.client_max_window_bits, 12);
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_FALSE(p.client_no_context_takeover);
  // Bare offer.
  EXPECT_EQ(answer("permessage-deflate", &p), "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(p.server_max_window_bits, 15);
  EXPECT_EQ(p.client_max_window_bits, 15);
}

TEST(DeflateOffer, ContextTakeoverParameters) {
  DeflateParams p;
  EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover", &p),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(answer("permessage-deflate;server_no_context_takeover;client_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  // §7.1.1: these take no value.
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover=1"), "");
  EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover=\"\""), "");
}

TEST(DeflateOffer, WindowBits) {
  for (int b = 8; b <= 15; ++b) {
    const std::string v = std::to_string(b);
    DeflateParams p;
    EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=" + v, &p),
              "permessage-deflate; server_no_context_takeover; server_max_window_bits=" + v);
    EXPECT_EQ(p.server_max_window_bits, b);
    EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=" + v, &p),
              "permessage-deflate; server_no_context_takeover; client_max_window_bits=" + v);
    EXPECT_EQ(p.client_max_window_bits, b);
  }
  // A quoted value is the same value (§7.1: after unquoting).
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"10\""),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
  // Out of range, leading zeros, signs, no digits, empty.
  for (const char* bad : {"7", "16", "0", "08", "010", "+9", "-9", "9a", "1 0", "\"\"", "\"1\"0"}) {
    EXPECT_EQ(answer(std::string("permessage-deflate; server_max_window_bits=") + bad), "") << bad;
    EXPECT_EQ(answer(std::string("permessage-deflate; client_max_window_bits=") + bad), "") << bad;
  }
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits="), "");
  // §7.1.2.1: server_max_window_bits always has a value; client_max_window_bits may not.
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits"), "");
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"),
            "permessage-deflate; server_no_context_takeover");
  // zlib writes 9 when asked for 8, so a client's 8 is inflated with 9.
  EXPECT_EQ(zlib_window_bits(8), 9);
  EXPECT_EQ(zlib_window_bits(9), 9);
  EXPECT_EQ(zlib_window_bits(15), 15);
}

TEST(DeflateOffer, DuplicatesAndUnknownsMakeAnOfferUnusable) {
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits; client_max_window_bits"), "");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"), "");
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
            "");
  EXPECT_EQ(answer("permessage-deflate; x-unknown"), "");
  EXPECT_EQ(answer("permessage-deflate; x=1"), "");
  // Names are compared as the RFC spells them.
  EXPECT_EQ(answer("permessage-deflate; Client_Max_Window_Bits"), "");
  // Syntax errors.
  EXPECT_EQ(answer("permessage-deflate;"), "");
  EXPECT_EQ(answer("permessage-deflate; ; client_no_context_takeover"), "");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"10"), "");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10\""), "");
}

TEST(DeflateOffer, FirstUsableOfSeveral) {
  // §5.1: offers in the client's order of preference; an unusable one is skipped.
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=16, permessage-deflate; "
                   "client_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10, permessage-deflate"),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
  // Other extensions are passed over.
  EXPECT_EQ(answer("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"),
            "permessage-deflate; server_no_context_takeover");
  EXPECT_EQ(answer("foo; bar=\"a,b\", permessage-deflate"),
            "permessage-deflate; server_no_context_takeover");
  // The extension name is a token: case-insensitive, blanks around it ignored.
  EXPECT_EQ(answer(" PerMessage-Deflate ;client_max_window_bits "),
            "permessage-deflate; server_no_context_takeover");
  // Nothing usable: declined, the handshake goes on.
  EXPECT_EQ(answer(""), "");
  EXPECT_EQ(answer(",,"), "");
  EXPECT_EQ(answer("x-webkit-deflate-frame"), "");
  EXPECT_EQ(answer("permessage-deflate-x"), "");
}

TEST(DeflateOffer, SeveralHeaderLinesFormOneList) {
  HttpHead req;
  req.headers[0] = {"Sec-WebSocket-Extensions", "permessage-deflate; x=1"};
  req.headers[1] = {"Host", "a"};
  req.headers[2] = {"sec-websocket-extensions", "permessage-deflate; client_no_context_takeover"};
  req.header_count = 3;
  DeflateParams p;
  std::string response;
  ASSERT_TRUE(negotiate_deflate(req, &p, &response));
  EXPECT_EQ(response, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  req.header_count = 2;
  EXPECT_FALSE(negotiate_deflate(req, &p, &response));
}

TEST(DeflateOffer, ClientOfferAndAnswerCheck) {
  EXPECT_EQ(deflate_client_offer(), "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(deflate_client_offer(true),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits");
  DeflateParams p;
  ASSERT_TRUE(accept_deflate_response("permessage-deflate; server_no_context_takeover", &p));
  EXPECT_TRUE(p.enabled);
  EXPECT_TRUE(p.server_no_context_takeover);
  ASSERT_TRUE(accept_deflate_response(
      "permessage-deflate; client_no_context_takeover; client_max_window_bits=10; "
      "server_max_window_bits=11",
      &p));
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(p.client_max_window_bits, 10);
  EXPECT_EQ(p.server_max_window_bits, 11);
  // §7.1.2.2: an answer's client_max_window_bits has a value.
  EXPECT_FALSE(accept_deflate_response("permessage-deflate; client_max_window_bits", &p));
  EXPECT_FALSE(p.enabled);
  // One element, of what we offered.
  EXPECT_FALSE(accept_deflate_response("permessage-deflate, permessage-deflate", &p));
  EXPECT_FALSE(accept_deflate_response("x-other", &p));
  EXPECT_FALSE(accept_deflate_response("permessage-deflate; mystery", &p));
  EXPECT_FALSE(accept_deflate_response("", &p));
}

TEST(DeflateOffer, HandshakeHeaders) {
  // The server's 101 carries the answer; the client's request the offer.
  char key[kKeyChars + 1];
  make_key(key);
  char accept[kAcceptChars + 1];
  ASSERT_TRUE(compute_accept(key, accept));
  std::string resp;
  build_accept_response(&resp, accept, {}, "permessage-deflate; server_no_context_takeover");
  EXPECT_NE(resp.find("\r\nSec-WebSocket-Extensions: permessage-deflate; "
                      "server_no_context_takeover\r\n"),
            std::string::npos);
  HttpHead head;
  size_t consumed = 0;
  ASSERT_EQ(parse_response({reinterpret_cast<const std::byte*>(resp.data()), resp.size()},
                           HttpLimits{}, &head, &consumed),
            HttpParse::kComplete);
  // A client that offered nothing refuses any extension (RFC 6455 §4.1 item 5).
  EXPECT_FALSE(check_upgrade_response(head, key));
  DeflateParams p;
  ASSERT_TRUE(check_upgrade_response(head, key, {}, &p));
  EXPECT_TRUE(p.enabled && p.server_no_context_takeover);
  // Without the header: valid, nothing agreed.
  build_accept_response(&resp, accept, {});
  ASSERT_EQ(parse_response({reinterpret_cast<const std::byte*>(resp.data()), resp.size()},
                           HttpLimits{}, &head, &consumed),
            HttpParse::kComplete);
  p.enabled = true;
  ASSERT_TRUE(check_upgrade_response(head, key, {}, &p));
  EXPECT_FALSE(p.enabled);
  std::string req;
  build_client_request(&req, "/c", "h", key, {}, {}, deflate_client_offer());
  EXPECT_NE(
      req.find("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
      std::string::npos);
}

}  // namespace
}  // namespace relay::ws
