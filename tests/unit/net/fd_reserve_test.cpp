// SPDX-License-Identifier: MIT
// FdReserve with a real listener: at the fd limit (EMFILE), a waiting client still gets
// the answer and then end of stream (FIN, not a reset), and the reserve is taken back.
#include "net/fd_reserve.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "net/socket.h"

namespace relay::net {
namespace {

constexpr std::string_view kAnswer = "HTTP/1.1 503 Service Unavailable\r\n\r\n";

// Reads fd (blocking, with poll) until EOF; false on a reset or a timeout.
bool read_to_eof(int fd, std::string* out) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return false;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == EAGAIN || errno == EINTR ? true : false;
    out->append(buf, size_t(n));
  }
}

int connected_client(int listen_fd) {
  auto port = local_port(listen_fd);
  EXPECT_TRUE(port.has_value());
  auto c = connect_tcp(*parse_address("127.0.0.1:" + std::to_string(*port)));
  EXPECT_TRUE(c.has_value());
  pollfd p{*c, POLLOUT, 0};
  EXPECT_EQ(poll(&p, 1, 5000), 1);
  return *c;
}

TEST(FdReserve, AnswersAtTheFdLimit) {
  auto l = listen_tcp(*parse_address("127.0.0.1:0"), 16, false);
  ASSERT_TRUE(l.has_value());
  FdReserve reserve;
  ASSERT_TRUE(reserve.held());
  int client = connected_client(*l);
  // The request is already waiting when the relay accepts: it must be read away.
  ASSERT_EQ(send(client, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL), 18);

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = dup(0);  // the lowest free descriptor: the limit goes right below it
  close(probe);
  rlimit tight = old;
  tight.rlim_cur = rlim_t(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  Accepted a = accept_nonblocking(*l);
  bool refused = a.status == AcceptStatus::kExhausted && reserve.refuse_one(*l, kAnswer);
  bool held = reserve.held();
  setrlimit(RLIMIT_NOFILE, &old);
  if (a.status == AcceptStatus::kAccepted) close(a.fd);
  EXPECT_EQ(a.status, AcceptStatus::kExhausted);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(held);  // taken back within the same limit

  std::string got;
  EXPECT_TRUE(read_to_eof(client, &got));
  EXPECT_EQ(got, kAnswer);
  close(client);
  // Nothing else waits: refuse_one reports it and keeps the reserve.
  EXPECT_FALSE(reserve.refuse_one(*l, kAnswer));
  EXPECT_TRUE(reserve.held());
  close(*l);
}

TEST(FdReserve, CloseRefusedSendsAnswerThenFin) {
  auto l = listen_tcp(*parse_address("127.0.0.1:0"), 16, false);
  ASSERT_TRUE(l.has_value());
  int client = connected_client(*l);
  ASSERT_EQ(send(client, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL), 18);
  pollfd p{*l, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  Accepted a = accept_nonblocking(*l);
  ASSERT_EQ(a.status, AcceptStatus::kAccepted);
  pollfd r{a.fd, POLLIN, 0};
  ASSERT_EQ(poll(&r, 1, 5000), 1);  // the request is in: closing over it would reset
  close_refused(a.fd, kAnswer);
  std::string got;
  EXPECT_TRUE(read_to_eof(client, &got));
  EXPECT_EQ(got, kAnswer);
  close(client);
  close(*l);
}

}  // namespace
}  // namespace relay::net
