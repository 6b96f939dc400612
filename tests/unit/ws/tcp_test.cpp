// SPDX-License-Identifier: MIT
// The socket layer under ws.h: addresses, listen/accept/connect deadlines, refused
// connections, tcp_close's wait for the peer and brecv's EPIPE at the end of the stream.
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

TEST(TcpApi, SocketCallsTimeOut) {
  ipaddr addr;
  ASSERT_EQ(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
  int ls = tcp_listen(&addr, 8);
  ASSERT_GE(ls, 0);
  EXPECT_GT(ipaddr_port(&addr), 0);  // tcp_listen reports the port it got
  char str[IPADDR_MAXSTRLEN];
  EXPECT_STREQ(ipaddr_str(&addr, str), "127.0.0.1");
  errno = 0;
  EXPECT_EQ(tcp_accept(ls, nullptr, 0), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  EXPECT_EQ(tcp_accept(ls, nullptr, now() - 100), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  // A handshake that never gets its request.
  int c = tcp_connect(&addr, soon());
  int s = tcp_accept(ls, nullptr, soon());
  ASSERT_GE(c, 0);
  ASSERT_GE(s, 0);
  char b[4], r[16], h[16];
  EXPECT_EQ(brecv(s, b, sizeof(b), 0), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  EXPECT_EQ(ws_attach_server(s, 0, r, sizeof(r), h, sizeof(h), now() + 50), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  hclose(c);
  hclose(ls);
}

TEST(TcpApi, ConnectRefused) {
  ipaddr addr;
  ASSERT_EQ(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
  int ls = tcp_listen(&addr, 1);
  ASSERT_GE(ls, 0);
  hclose(ls);  // the port is free again: nobody listens
  errno = 0;
  EXPECT_EQ(tcp_connect(&addr, soon()), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST(TcpApi, TcpCloseWaitsForPeerAndBrecvSeesEpipe) {
  Pair t = tcp_pair();
  int rc = -2;
  std::thread th([&] { rc = tcp_close(t.client, soon()); });
  char b[4];
  errno = 0;
  EXPECT_EQ(brecv(t.server, b, sizeof(b), soon()), -1);  // the stream ended
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(tcp_close(t.server, soon()), 0);
  th.join();
  EXPECT_EQ(rc, 0);
}

TEST(TcpApi, AddressErrorsAndForms) {
  ipaddr addr;
  char str[IPADDR_MAXSTRLEN];
  errno = 0;
  EXPECT_EQ(ipaddr_local(&addr, nullptr, 70000, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ipaddr_local(&addr, nullptr, 80, 9), -1);  // unknown mode
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ipaddr_remote(&addr, nullptr, 80, 0, soon()), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(ipaddr_local(&addr, nullptr, 8080, 0), 0);  // any address, IPv4 preferred
  EXPECT_STREQ(ipaddr_str(&addr, str), "0.0.0.0");
  EXPECT_EQ(ipaddr_port(&addr), 8080);
  ASSERT_EQ(ipaddr_local(&addr, nullptr, 1, IPADDR_IPV6), 0);
  EXPECT_STREQ(ipaddr_str(&addr, str), "::");
  ASSERT_EQ(ipaddr_remote(&addr, "::1", 443, IPADDR_PREF_IPV6, soon()), 0);
  EXPECT_STREQ(ipaddr_str(&addr, str), "::1");
  EXPECT_EQ(ipaddr_port(&addr), 443);
}

TEST(TcpApi, FromFdChecksTheDescriptor) {
  errno = 0;
  EXPECT_EQ(tcp_fromfd(-1), -1);
  EXPECT_EQ(errno, EBADF);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  EXPECT_EQ(tcp_fromfd(pipefd[0]), -1);  // not a socket
  EXPECT_EQ(errno, EINVAL);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(tcp_fromfd(udp), -1);  // not a stream socket; the fd stays ours
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(close(udp), 0);
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(TcpApi, HcloseWakesBlockedAccept) {
  ipaddr addr;
  ASSERT_EQ(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
  int ls = tcp_listen(&addr, 8);
  ASSERT_GE(ls, 0);
  int rc = 0, err = 0;
  std::thread th([&] {
    rc = tcp_accept(ls, nullptr, soon());
    err = errno;
  });
  usleep(100 * 1000);  // let it block (if it has not, it sees EBADF: no hang either way)
  ASSERT_EQ(hclose(ls), 0);
  th.join();
  EXPECT_EQ(rc, -1);
  EXPECT_TRUE(err == ECANCELED || err == EBADF) << err;  // not ETIMEDOUT 10 s later
}

}  // namespace
