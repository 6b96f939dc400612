// SPDX-License-Identifier: MIT
// daemon/logging: the rate limiter's arithmetic, level changes, and the line format on a
// plain terminal and under journald (JOURNAL_STREAM naming our stderr).
#include "logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "run_binary.h"

namespace relay::daemon {
namespace {

TEST(LogRateLimiter, PassesNPerWindowThenCountsTheRest) {
  LogRateLimiter l(3, 1000);
  for (int i = 0; i < 3; ++i) {
    const auto d = l.check("accept", 100 + i);
    EXPECT_TRUE(d.log);
    EXPECT_EQ(d.suppressed, 0u);
  }
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(l.check("accept", 500).log);
  EXPECT_FALSE(l.check("accept", 1099).log);  // still the window that began at 100
  const auto next = l.check("accept", 1100);  // a new window
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 8u);
  EXPECT_EQ(l.check("accept", 1101).suppressed, 0u);  // reported once
}

TEST(LogRateLimiter, KeysAreIndependent) {
  LogRateLimiter l(1, 1000);
  EXPECT_TRUE(l.check("a", 0).log);
  EXPECT_FALSE(l.check("a", 1).log);
  EXPECT_TRUE(l.check("b", 2).log);
  EXPECT_FALSE(l.check("b", 3).log);
  EXPECT_FALSE(l.check("a", 4).log);
  EXPECT_EQ(l.check("a", 1000).suppressed, 2u);
  EXPECT_EQ(l.check("b", 1002).suppressed, 1u);
}

TEST(LogRateLimiter, FlushReportsTheTailOfABurst) {
  LogRateLimiter l(1, 1000);
  l.check("tls", 0);
  l.check("tls", 10);
  l.check("tls", 20);
  l.check("quiet", 0);
  std::vector<std::pair<std::string, uint64_t>> got;
  auto report = [&](std::string_view k, uint64_t n) { got.emplace_back(std::string(k), n); };
  l.flush(500, report);  // window not over yet
  EXPECT_TRUE(got.empty());
  l.flush(1000, report);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (std::pair<std::string, uint64_t>{"tls", 2}));
  EXPECT_EQ(l.tracked_keys(), 0u);  // idle keys forgotten
  got.clear();
  l.flush(5000, report);
  EXPECT_TRUE(got.empty());  // reported once
}

TEST(LogRateLimiter, KeyCountIsBounded) {
  LogRateLimiter l(1, 1000, 4);
  for (int i = 0; i < 100; ++i) l.check("key" + std::to_string(i), 0);
  EXPECT_LE(l.tracked_keys(), 5u);  // 4 + the shared overflow key
  // The overflow key is rate-limited like any other: 1 of the 96 late keys got through.
  EXPECT_FALSE(l.check("key99", 1).log);
  // Once the old windows are over, idle keys make room again.
  EXPECT_TRUE(l.check("fresh", 2000).log);
}

TEST(Logging, SetLevel) {
  init_logging("warn");
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  EXPECT_TRUE(set_log_level("debug"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_TRUE(set_log_level("off"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::off);
  EXPECT_FALSE(set_log_level("loud"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::off);
  EXPECT_TRUE(set_log_level("error"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::err);
}

// Runs `body` with stderr redirected to a file and returns what it wrote.
template <typename F>
std::string capture_stderr(const testing::TempDir& dir, F body) {
  const std::string path = dir.path() + "/stderr.txt";
  const int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int saved = dup(STDERR_FILENO);
  dup2(file, STDERR_FILENO);
  body();
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(file);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Logging, TerminalLinesHaveTimeAndLevel) {
  testing::TempDir dir;
  unsetenv("JOURNAL_STREAM");
  const std::string out = capture_stderr(dir, [] {
    init_logging("info");
    spdlog::debug("hidden");
    spdlog::warn("listening on {}", "127.0.0.1:1");
    spdlog::default_logger()->flush();
  });
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find(" warning wsrelay: listening on 127.0.0.1:1\n"), std::string::npos) << out;
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(out[0]))) << out;  // a timestamp
}

TEST(Logging, JournalLinesCarryThePriorityAndNoTime) {
  testing::TempDir dir;
  const std::string out = capture_stderr(dir, [] {
    struct stat st {};
    fstat(STDERR_FILENO, &st);
    const std::string js = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    setenv("JOURNAL_STREAM", js.c_str(), 1);
    EXPECT_TRUE(stderr_is_journal());
    init_logging("debug");
    spdlog::info("ready");
    spdlog::error("bind failed");
    spdlog::debug("client 7 connected");
    spdlog::default_logger()->flush();
    unsetenv("JOURNAL_STREAM");
  });
  EXPECT_EQ(out, "<6>ready\n<3>bind failed\n<7>client 7 connected\n");
}

TEST(Logging, ForeignJournalStreamIsIgnored) {
  setenv("JOURNAL_STREAM", "1:1", 1);
  EXPECT_FALSE(stderr_is_journal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stderr_is_journal());
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal());
}

TEST(Logging, LogLimitedAppendsTheSuppressedCount) {
  testing::TempDir dir;
  unsetenv("JOURNAL_STREAM");
  LogRateLimiter l(1, 60000);  // a window far longer than this test
  const std::string out = capture_stderr(dir, [&] {
    init_logging("info");
    for (int i = 0; i < 5; ++i)
      log_limited(l, spdlog::level::warn, "accept", "accept failed: {}", i);
    log_limited(l, spdlog::level::debug, "accept", "below the level: not counted");
    spdlog::default_logger()->flush();
  });
  EXPECT_NE(out.find("accept failed: 0\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("accept failed: 1"), std::string::npos) << out;
  const std::string tail = capture_stderr(dir, [&] {
    log_suppressed(l, monotonic_ms() + 60000);
    spdlog::default_logger()->flush();
  });
  EXPECT_NE(tail.find("suppressed 4 similar messages (accept)"), std::string::npos) << tail;
}

}  // namespace
}  // namespace relay::daemon
