// SPDX-License-Identifier: MIT
// daemon/systemd: the notifications arrive on a NOTIFY_SOCKET this test owns (an AF_UNIX
// datagram socket in a temp dir), with the exact assignments sd_notify(3) defines.
#include "systemd.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "run_binary.h"

namespace relay::daemon {
namespace {

class NotifySocket : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!systemd_support_built()) GTEST_SKIP() << "built without libsystemd";
    path_ = dir_.path() + "/notify.sock";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof a.sun_path);
    path_.copy(a.sun_path, path_.size());
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{2, 0};  // a missing datagram fails the test instead of hanging it
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (fd_ >= 0) close(fd_);
  }
  std::string next() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("<nothing>");
  }
  bool nothing_pending() {
    char c;
    return recv(fd_, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
  }

  testing::TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(NotifySocket, ReadyStatusStoppingWatchdog) {
  EXPECT_TRUE(notify_ready());
  EXPECT_EQ(next(), "READY=1");
  EXPECT_TRUE(notify_status("3 connections, 1 channel"));
  EXPECT_EQ(next(), "STATUS=3 connections, 1 channel");
  EXPECT_TRUE(notify_stopping());
  EXPECT_EQ(next(), "STOPPING=1");
  EXPECT_TRUE(notify_watchdog());
  EXPECT_EQ(next(), "WATCHDOG=1");
  EXPECT_TRUE(nothing_pending());
}

TEST_F(NotifySocket, StatusStaysOneLine) {
  EXPECT_TRUE(notify_status("a\nREADY=1"));
  EXPECT_EQ(next(), "STATUS=a READY=1");
}

TEST_F(NotifySocket, ReloadingCarriesMonotonicTime) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  EXPECT_TRUE(notify_reloading());
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);
  const std::string msg = next();
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(msg.rfind(prefix, 0), 0u) << msg;
  const uint64_t usec = std::stoull(msg.substr(prefix.size()));
  auto to_us = [](const timespec& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1000000u + static_cast<uint64_t>(t.tv_nsec) / 1000u;
  };
  EXPECT_GE(usec, to_us(before));
  EXPECT_LE(usec, to_us(after));
  // The reload ends with READY=1 again (README "Command line").
  EXPECT_TRUE(notify_ready());
  EXPECT_EQ(next(), "READY=1");
}

TEST_F(NotifySocket, WatchdogIntervalIsHalfOfWatchdogUsec) {
  EXPECT_EQ(watchdog_interval_ms(), 0);  // not set
  setenv("WATCHDOG_USEC", "3000000", 1);
  EXPECT_EQ(watchdog_interval_ms(), 1500);  // WATCHDOG_PID unset: for us
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(watchdog_interval_ms(), 1500);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(watchdog_interval_ms(), 0);  // meant for another process
  unsetenv("WATCHDOG_PID");
  setenv("WATCHDOG_USEC", "1000", 1);
  EXPECT_EQ(watchdog_interval_ms(), 1);  // never 0 while enabled
  setenv("WATCHDOG_USEC", "junk", 1);
  EXPECT_EQ(watchdog_interval_ms(), 0);
}

TEST(NotifyWithoutSocket, NothingIsSent) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(notify_ready());
  EXPECT_FALSE(notify_status("x"));
  EXPECT_FALSE(notify_reloading());
  EXPECT_FALSE(notify_stopping());
  EXPECT_FALSE(notify_watchdog());
}

}  // namespace
}  // namespace relay::daemon
