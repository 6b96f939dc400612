// SPDX-License-Identifier: MIT
// WS_DEFLATE, the ws_* API's permessage-deflate (RFC 7692): both ends agree and messages
// of every size come back exact; the client's offer and its compressed frame (RSV1, fewer
// bytes) as a raw peer sees them; one side without the flag means no compression; a bad
// answer is EPROTO; WS_DEFLATE with WS_NOHTTP is EINVAL.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "api_helpers.h"
#include "ws/ws.h"

namespace {

using namespace api_test;  // NOLINT

std::string text_of(size_t n) {
  std::string s;
  while (s.size() < n) s += "{\"user\":\"alice\",\"n\":" + std::to_string(s.size()) + "}";
  s.resize(n);
  return s;
}

// Attaches over loopback TCP with the given flags on each side.
Pair attached(int server_flags, int client_flags) {
  Pair t = tcp_pair();
  char resource[64], host[64];
  Pair p;
  std::thread th([&] {
    p.server = ws_attach_server(t.server, server_flags, resource, sizeof(resource), host,
                                sizeof(host), soon());
  });
  p.client = ws_attach_client(t.client, client_flags, "/z", "example.test", soon());
  th.join();
  EXPECT_GE(p.server, 0);
  EXPECT_GE(p.client, 0);
  return p;
}

void round_trip(const Pair& p) {
  for (size_t n : {0, 1, 100, 5000, 300000}) {
    const std::string msg = text_of(n);
    std::string buf(n + 1, '\0');
    int flags = -1;
    std::thread th([&] { EXPECT_EQ(ws_send(p.client, WS_TEXT, msg.data(), n, soon()), 0); });
    EXPECT_EQ(ws_recv(p.server, &flags, buf.data(), buf.size(), soon()), static_cast<ssize_t>(n));
    th.join();
    EXPECT_EQ(flags, WS_TEXT);
    EXPECT_EQ(buf.substr(0, n), msg);
    std::thread back([&] { EXPECT_EQ(ws_send(p.server, WS_BINARY, msg.data(), n, soon()), 0); });
    EXPECT_EQ(ws_recv(p.client, &flags, buf.data(), buf.size(), soon()), static_cast<ssize_t>(n));
    back.join();
    EXPECT_EQ(flags, WS_BINARY);
    EXPECT_EQ(buf.substr(0, n), msg);
  }
}

TEST(WsApiDeflate, BothSidesAgreeAndMessagesComeBackExact) {
  Pair p = attached(WS_DEFLATE, WS_DEFLATE);
  round_trip(p);
  close_pair(p);
}

TEST(WsApiDeflate, OneSideWithoutTheFlagMeansPlainFrames) {
  Pair a = attached(0, WS_DEFLATE);
  round_trip(a);
  close_pair(a);
  Pair b = attached(WS_DEFLATE, 0);
  round_trip(b);
  close_pair(b);
}

// The head a raw server reads: up to the empty line.
std::string read_head(int fd) {
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    std::string c = read_raw(fd, 1);
    if (c.empty()) break;
    head += c;
  }
  return head;
}

std::string accept_line(const std::string& request) {
  const size_t k = request.find("Sec-WebSocket-Key: ");
  char accept[WS_KEY_SIZE];
  EXPECT_EQ(ws_response_key(request.substr(k + 19, 24).c_str(), accept), 0);
  return std::string("Sec-WebSocket-Accept: ") + accept + "\r\n";
}

TEST(WsApiDeflate, ClientOffersAndSendsCompressedFrames) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int client = -1;
  std::thread th(
      [&] { client = ws_attach_client(tcp_fromfd(sv[0]), WS_DEFLATE, "/", "x", soon()); });
  const std::string req = read_head(sv[1]);
  EXPECT_NE(
      req.find("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
      std::string::npos)
      << req;
  write_raw(sv[1],
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                accept_line(req) +
                "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n");
  th.join();
  ASSERT_GE(client, 0);
  const std::string msg(10000, 'a');
  ASSERT_EQ(ws_send(client, WS_BINARY, msg.data(), msg.size(), soon()), 0);
  const std::string head = read_raw(sv[1], 2);
  ASSERT_EQ(head.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(head[0]), 0xC2);        // FIN, RSV1, binary
  EXPECT_LT(static_cast<uint8_t>(head[1]) & 0x7F, 126);  // 10,000 'a' deflate to < 126 bytes
  hclose(client);
  close(sv[1]);
}

TEST(WsApiDeflate, ClientRejectsAnAnswerItDidNotOffer) {
  for (const char* ext :
       {"permessage-deflate; x=1", "permessage-deflate, permessage-deflate", "x-other"}) {
    for (int flags : {0, WS_DEFLATE}) {
      if (flags == 0 && std::string(ext) == "x-other") continue;  // covered by the others
      int sv[2];
      ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
      int client = 0;
      int err = 0;
      std::thread th([&] {
        client = ws_attach_client(tcp_fromfd(sv[0]), flags, "/", "x", soon());
        err = errno;
      });
      const std::string req = read_head(sv[1]);
      write_raw(
          sv[1],
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              accept_line(req) + "Sec-WebSocket-Extensions: " + ext + "\r\n\r\n");
      th.join();
      EXPECT_EQ(client, -1) << ext;
      EXPECT_EQ(err, EPROTO) << ext;  // errno of the attaching thread
      close(sv[1]);
    }
  }
}

TEST(WsApiDeflate, NotWithoutTheHttpHandshake) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const int s = tcp_fromfd(sv[0]);
  errno = 0;
  EXPECT_EQ(ws_attach_client(s, WS_NOHTTP | WS_DEFLATE, nullptr, nullptr, soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ws_attach_server(s, WS_NOHTTP | WS_DEFLATE, nullptr, 0, nullptr, 0, soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  hclose(s);  // still the caller's after EINVAL
  close(sv[1]);
}

}  // namespace
