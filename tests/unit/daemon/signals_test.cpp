// SPDX-License-Identifier: MIT
// daemon/signals: SIGTERM/SIGINT/SIGHUP arrive through the signalfd instead of killing the
// process, and SIGPIPE is ignored so writes to a closed peer fail with EPIPE.
#include "signals.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace relay::daemon {
namespace {

class SignalFd : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open_signal_fd();
    ASSERT_GE(fd_, 0) << std::strerror(errno);
  }
  void TearDown() override {
    close(fd_);
    restore_signal_defaults();
  }
  int fd_ = -1;
};

TEST_F(SignalFd, IsNonBlockingAndCloseOnExec) {
  EXPECT_TRUE(fcntl(fd_, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(fd_, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(read_signals(fd_).empty());  // nothing pending: returns at once
}

TEST_F(SignalFd, DeliversTheHandledSignalsInsteadOfActingOnThem) {
  ASSERT_EQ(raise(SIGHUP), 0);  // would terminate the test without the mask
  EXPECT_EQ(read_signals(fd_), std::vector<int>{SIGHUP});
  ASSERT_EQ(raise(SIGTERM), 0);
  ASSERT_EQ(raise(SIGINT), 0);
  std::vector<int> got = read_signals(fd_);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{SIGINT, SIGTERM}));
  EXPECT_TRUE(read_signals(fd_).empty());
}

TEST_F(SignalFd, SigpipeIsIgnored) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  errno = 0;
  EXPECT_EQ(write(p[1], "x", 1), -1);  // would kill the test without SIG_IGN
  EXPECT_EQ(errno, EPIPE);
  close(p[1]);
}

TEST(SignalDefaults, RestoreUnblocks) {
  const int fd = open_signal_fd();
  ASSERT_GE(fd, 0);
  close(fd);
  restore_signal_defaults();
  sigset_t now;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &now), 0);
  EXPECT_FALSE(sigismember(&now, SIGHUP));
  EXPECT_FALSE(sigismember(&now, SIGTERM));
  struct sigaction sa {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &sa), 0);
  EXPECT_EQ(sa.sa_handler, SIG_DFL);
}

}  // namespace
}  // namespace relay::daemon
