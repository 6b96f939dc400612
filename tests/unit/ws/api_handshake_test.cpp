// SPDX-License-Identifier: MIT
// The ws_* API's opening handshake over loopback TCP and socketpairs: resource and host
// copied out, 400 / 426 answers, a bad 101 rejected, EMSGSIZE for small buffers, the _mem
// variants, and ws_request_key / ws_response_key with the RFC 6455 §1.3 vector.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "api_helpers.h"
#include "ws/ws.h"

namespace {

using namespace api_test;  // NOLINT

TEST(WsApiHandshake, ResponseKeyMatchesRfcVector) {
  char key[WS_KEY_SIZE];
  ASSERT_EQ(ws_response_key("dGhlIHNhbXBsZSBub25jZQ==", key), 0);  // RFC 6455 §1.3
  EXPECT_STREQ(key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsApiHandshake, RequestKeyIsFreshAndAccepted) {
  char a[WS_KEY_SIZE], b[WS_KEY_SIZE], accept[WS_KEY_SIZE];
  ASSERT_EQ(ws_request_key(a), 0);
  ASSERT_EQ(ws_request_key(b), 0);
  EXPECT_EQ(strlen(a), 24u);
  EXPECT_STRNE(a, b);
  EXPECT_EQ(ws_response_key(a, accept), 0);  // decodes to 16 bytes
  EXPECT_EQ(strlen(accept), 28u);
}

TEST(WsApiHandshake, KeyErrors) {
  char out[WS_KEY_SIZE];
  errno = 0;
  EXPECT_EQ(ws_request_key(nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ws_response_key(nullptr, out), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ws_response_key("dGhlIHNhbXBsZSBub25jZQ==", nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ws_response_key("c2hvcnQ=", out), -1);  // "short": not a 16-byte nonce
  EXPECT_EQ(errno, EPROTO);
}

TEST(WsApiHandshake, HttpHandshakeCopiesResourceAndHost) {
  Pair t = tcp_pair();
  char resource[64], host[64];
  int server = -1;
  std::thread th([&] {
    server = ws_attach_server(t.server, 0, resource, sizeof(resource), host, sizeof(host), soon());
  });
  int client = ws_attach_client(t.client, WS_TEXT, "/chat?room=1", "example.test", soon());
  th.join();
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  EXPECT_STREQ(resource, "/chat?room=1");
  EXPECT_STREQ(host, "example.test");
  // ws_send's flags override the attach-time type (the seed page's rule).
  ASSERT_EQ(ws_send(client, WS_BINARY, "\x00\xff", 2, soon()), 0);
  ASSERT_EQ(ws_send(server, WS_TEXT, "hi", 2, soon()), 0);
  char buf[8];
  int flags = -1;
  EXPECT_EQ(ws_recv(server, &flags, buf, sizeof(buf), soon()), 2);
  EXPECT_EQ(flags, WS_BINARY);
  EXPECT_EQ(memcmp(buf, "\x00\xff", 2), 0);
  EXPECT_EQ(ws_recv(client, &flags, buf, sizeof(buf), soon()), 2);
  EXPECT_EQ(flags, WS_TEXT);
  hclose(client);
  hclose(server);
}

TEST(WsApiHandshake, ServerAnswers400And426) {
  for (const char* version : {"", "8"}) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    std::string req =
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (*version)
      req += std::string("Sec-WebSocket-Version: ") + version + "\r\n";
    else
      req = "GET / HTTP/1.1\r\nHost: x\r\n";  // no upgrade at all
    write_raw(sv[1], req + "\r\n");
    char resource[64], host[64];
    errno = 0;
    EXPECT_EQ(ws_attach_server(tcp_fromfd(sv[0]), 0, resource, sizeof(resource), host, sizeof(host),
                               soon()),
              -1);
    EXPECT_EQ(errno, EPROTO);
    std::string resp = read_raw(sv[1], 12);
    EXPECT_EQ(resp, *version ? "HTTP/1.1 426" : "HTTP/1.1 400");
    close(sv[1]);
  }
}

TEST(WsApiHandshake, ClientRejectsBadResponse) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  write_raw(sv[1], "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  errno = 0;
  EXPECT_EQ(ws_attach_client(tcp_fromfd(sv[0]), 0, "/", "x", soon()), -1);
  EXPECT_EQ(errno, EPROTO);
  close(sv[1]);
}

TEST(WsApiHandshake, ResourceTooLongIsEmsgsize) {
  Pair t = tcp_pair();
  char resource[4], host[64];
  int server = 0, server_err = 0;
  std::thread th([&] {
    server = ws_attach_server(t.server, 0, resource, sizeof(resource), host, sizeof(host), soon());
    server_err = errno;
  });
  errno = 0;
  EXPECT_EQ(ws_attach_client(t.client, 0, "/longer-than-4", "x", soon()), -1);
  EXPECT_EQ(errno, EPROTO);  // the server answered an HTTP error
  th.join();
  EXPECT_EQ(server, -1);
  EXPECT_EQ(server_err, EMSGSIZE);
}

TEST(WsApiHandshake, MemVariantsOverHttp) {
  Pair t = tcp_pair();
  ws_storage smem, cmem;
  char resource[32], host[32];
  int server = -1;
  std::thread th([&] {
    server = ws_attach_server_mem(t.server, WS_TEXT, resource, sizeof(resource), host, sizeof(host),
                                  &smem, soon());
  });
  int client = ws_attach_client_mem(t.client, WS_TEXT, "/mem", "mem.test", &cmem, soon());
  th.join();
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  EXPECT_STREQ(resource, "/mem");
  ASSERT_EQ(msend(client, "hello", 5, soon()), 0);
  char buf[8];
  EXPECT_EQ(mrecv(server, buf, sizeof(buf), soon()), 5);
  errno = 0;
  EXPECT_EQ(ws_attach_server_mem(server, WS_NOHTTP, nullptr, 0, nullptr, 0, nullptr, soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  // hclose destroys the objects in place; ASan would flag a free() of caller memory.
  EXPECT_EQ(hclose(client), 0);
  EXPECT_EQ(hclose(server), 0);
}

}  // namespace
