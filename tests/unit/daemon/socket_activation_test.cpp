// SPDX-License-Identifier: MIT
// daemon/systemd: take_activated_listeners() with sockets passed the way systemd passes them
// (fds from 3 on, LISTEN_PID = us, LISTEN_FDS = count, LISTEN_FDNAMES = names joined by ':').
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "systemd.h"

namespace relay::daemon {
namespace {

// A loopback TCP socket moved to fd `target`; listening unless told otherwise.
void socket_at(int target, bool listening) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);  // blocking, inheritable: as systemd passes them
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (listening) {
    ASSERT_EQ(listen(fd, 8), 0);
  }
  if (fd != target) {  // socket() may have picked `target` itself
    ASSERT_EQ(dup2(fd, target), target);
    close(fd);
  }
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

class SocketActivation : public ::testing::Test {
 protected:
  // Passed sockets start at fd 3 (SD_LISTEN_FDS_START): whatever the test runner left at
  // 3..5 is parked on a high fd meanwhile and put back afterwards.
  void SetUp() override {
    if (!systemd_support_built()) GTEST_SKIP() << "built without libsystemd";
    for (int fd = 3; fd < 6; ++fd) {
      saved_[fd - 3] = is_open(fd) ? fcntl(fd, F_DUPFD_CLOEXEC, 100) : -1;
      close(fd);
    }
  }
  void TearDown() override {
    for (int fd = 3; fd < 6; ++fd) {
      close(fd);
      if (saved_[fd - 3] >= 0) {
        dup2(saved_[fd - 3], fd);
        close(saved_[fd - 3]);
      }
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
  }
  void pass(int count, const char* names) {
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    setenv("LISTEN_FDS", std::to_string(count).c_str(), 1);
    if (names)
      setenv("LISTEN_FDNAMES", names, 1);
    else
      unsetenv("LISTEN_FDNAMES");
  }
  int saved_[3] = {-1, -1, -1};
};

TEST_F(SocketActivation, NothingPassed) {
  ActivatedListeners l = take_activated_listeners();
  EXPECT_EQ(l.public_fd, -1);
  EXPECT_EQ(l.metrics_fd, -1);
  EXPECT_TRUE(l.ignored.empty());
}

TEST_F(SocketActivation, PublicAndMetricsByName) {
  socket_at(3, true);
  socket_at(4, true);
  pass(2, "metrics:public");
  ActivatedListeners l = take_activated_listeners();
  EXPECT_EQ(l.metrics_fd, 3);
  EXPECT_EQ(l.public_fd, 4);
  EXPECT_TRUE(l.ignored.empty());
  EXPECT_TRUE(fcntl(4, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(4, F_GETFD) & FD_CLOEXEC);
  // Taken once: the variables are gone, so a child (or a second call) gets nothing.
  EXPECT_EQ(getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(getenv("LISTEN_PID"), nullptr);
  EXPECT_EQ(getenv("LISTEN_FDNAMES"), nullptr);
  EXPECT_EQ(take_activated_listeners().public_fd, -1);
}

TEST_F(SocketActivation, OneUnnamedSocketIsPublic) {
  socket_at(3, true);
  pass(1, nullptr);
  ActivatedListeners l = take_activated_listeners();
  EXPECT_EQ(l.public_fd, 3);
  EXPECT_EQ(l.metrics_fd, -1);
}

TEST_F(SocketActivation, OneSocketNamedAfterItsUnitIsPublic) {
  socket_at(3, true);
  pass(1, "wsrelay.socket");
  EXPECT_EQ(take_activated_listeners().public_fd, 3);
}

TEST_F(SocketActivation, UnknownNamesAndNonListeningSocketsAreClosed) {
  socket_at(3, true);
  socket_at(4, true);
  socket_at(5, false);
  pass(3, "public:other:metrics");
  ActivatedListeners l = take_activated_listeners();
  EXPECT_EQ(l.public_fd, 3);
  EXPECT_EQ(l.metrics_fd, -1);
  ASSERT_EQ(l.ignored.size(), 2u);
  EXPECT_NE(l.ignored[0].find("other (fd 4)"), std::string::npos) << l.ignored[0];
  EXPECT_NE(l.ignored[1].find("not a listening stream socket"), std::string::npos) << l.ignored[1];
  EXPECT_FALSE(is_open(4));
  EXPECT_FALSE(is_open(5));
}

TEST_F(SocketActivation, SocketsForAnotherProcessAreNotTaken) {
  socket_at(3, true);
  pass(1, "public");
  setenv("LISTEN_PID", "1", 1);  // meant for init, not for us
  EXPECT_EQ(take_activated_listeners().public_fd, -1);
  EXPECT_TRUE(is_open(3));
}

}  // namespace
}  // namespace relay::daemon
