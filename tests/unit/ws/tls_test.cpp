// SPDX-License-Identifier: MIT
// tls_attach_client's errors before and during the handshake: its TLS context comes from
// lib/net (TlsContext::create_client), whose failures map to libdill-style errno.
// 127.0.0.1 only; the successful wss:// path runs in tests/integration/test_tls.py.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>

#include "api_helpers.h"
#include "ws/ws.h"

namespace {

using namespace api_test;  // NOLINT

// A connected pair of tcp handles on 127.0.0.1.
struct TcpPair {
  int ls = -1, client = -1, server = -1;
  TcpPair() {
    ipaddr addr;
    EXPECT_EQ(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
    ls = tcp_listen(&addr, 8);
    EXPECT_GE(ls, 0);
    client = tcp_connect(&addr, soon());
    server = tcp_accept(ls, nullptr, soon());
    EXPECT_GE(client, 0);
    EXPECT_GE(server, 0);
  }
  ~TcpPair() {
    for (int h : {ls, client, server})
      if (h >= 0) hclose(h);
  }
};

// Sets an environment variable for one test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

TEST(TlsApi, BadArgumentsLeaveTheStreamWithTheCaller) {
  TcpPair p;
  errno = 0;
  EXPECT_EQ(tls_attach_client(p.client, nullptr, soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(tls_attach_client(p.client, "", soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(tls_attach_client(12345, "localhost", soon()), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(bsend(p.client, "x", 1, soon()), 0);  // still ours and usable
}

TEST(TlsApi, MissingCaFileIsEnoentAndClosesTheStream) {
  TcpPair p;
  ScopedEnv env("WSRELAY_CA_FILE", "/nonexistent/wsrelay-ca.pem");
  errno = 0;
  EXPECT_EQ(tls_attach_client(p.client, "localhost", soon()), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(hclose(p.client), -1);  // taken over, then closed
  EXPECT_EQ(errno, EBADF);
  p.client = -1;
}

TEST(TlsApi, PeerThatIsNotTlsFailsTheHandshake) {
  TcpPair p;
  // The "server" answers the ClientHello with plain text and closes.
  std::thread server([&] {
    char hello[5];
    EXPECT_EQ(brecv(p.server, hello, sizeof hello, soon()), 0);
    const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    EXPECT_EQ(bsend(p.server, reply, sizeof reply - 1, soon()), 0);
    hclose(p.server);
    p.server = -1;
  });
  errno = 0;
  EXPECT_EQ(tls_attach_client(p.client, "localhost", soon()), -1);
  const int err = errno;
  server.join();
  EXPECT_TRUE(err == EPROTO || err == ECONNRESET) << err;
  p.client = -1;  // closed by the failed call
}

TEST(TlsApi, HandshakeTimesOutWhenThePeerIsSilent) {
  TcpPair p;
  errno = 0;
  EXPECT_EQ(tls_attach_client(p.client, "127.0.0.1", now() + 50), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  p.client = -1;
}

}  // namespace
