// SPDX-License-Identifier: MIT
// daemon/healthcheck: URL parsing, and run_healthcheck() against a one-shot loopback HTTP
// server run by the test (a real socket, no mocks).
#include "healthcheck.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace relay::daemon {
namespace {

TEST(HealthUrl, ParsesHostPortAndPath) {
  std::string err;
  auto u = parse_health_url("http://127.0.0.1:8080/healthz", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/healthz");

  u = parse_health_url("HTTP://localhost", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");

  u = parse_health_url("http://[::1]:9090/readyz?x=1", &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9090);
  EXPECT_EQ(u->path, "/readyz?x=1");
}

TEST(HealthUrl, RejectsWhatItCannotCheck) {
  for (const char* url :
       {"", "https://127.0.0.1/healthz", "ftp://x/", "127.0.0.1:8080/healthz", "http://",
        "http://:8080/", "http://host:/", "http://host:0/", "http://host:65536/",
        "http://host:80x/", "http://[::1/", "http://[::1]x/", "http://user@host/",
        "http://host/a b", "http://host/a\r\nX: y"}) {
    std::string err;
    EXPECT_FALSE(parse_health_url(url, &err)) << url;
    EXPECT_FALSE(err.empty()) << url;
  }
}

// Accepts one connection on 127.0.0.1, records the request head, answers `reply` (or
// nothing, holding the connection until the client leaves, when reply is empty).
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ADD_FAILURE() << "cannot listen on loopback";
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    wait();
    ::close(fd_);
  }
  void wait() {
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }
  std::string url(const char* path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Valid after the client finished (run_healthcheck returned).
  const std::string& request() {
    wait();
    return request_;
  }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return;  // bounded: the client never came
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char buf[1024];
    while (request_.find("\r\n\r\n") == std::string::npos && request_.size() < 16384) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 5000) != 1) break;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    if (!reply_.empty()) {
      (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    } else {
      pollfd q{c, POLLIN, 0};  // wait (bounded) for the client to give up and close
      for (int i = 0; i < 50 && ::poll(&q, 1, 100) == 0; ++i) {
      }
    }
    ::close(c);
  }

  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(Healthcheck, Status200IsHealthy) {
  OneShotServer s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  EXPECT_EQ(run_healthcheck(s.url("/healthz")), 0);
  const std::string& req = s.request();
  EXPECT_EQ(req.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: 127.0.0.1:" + std::to_string(s.port()) + "\r\n"), std::string::npos)
      << req;
}

TEST(Healthcheck, OtherStatusIsUnhealthy) {
  OneShotServer s("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 8\r\n\r\ndraining");
  EXPECT_EQ(run_healthcheck(s.url("/readyz")), 1);
}

TEST(Healthcheck, OnlyStatus200Counts) {
  // A four-digit status is not 200, and a "200" further down must not fool it.
  OneShotServer s("HTTP/1.1 2000 Odd\r\n\r\nHTTP/1.1 200 OK\r\n");
  EXPECT_EQ(run_healthcheck(s.url("/")), 1);
}

TEST(Healthcheck, GarbageAnswerIsUnhealthy) {
  OneShotServer s("SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_EQ(run_healthcheck(s.url("/healthz")), 1);
}

TEST(Healthcheck, SilentServerTimesOut) {
  OneShotServer s("");
  EXPECT_EQ(run_healthcheck(s.url("/healthz"), 300), 1);
}

TEST(Healthcheck, RefusedConnectionIsUnhealthy) {
  uint16_t port;
  {
    // A port that was free a moment ago and has no listener now.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port = ntohs(a.sin_port);
    ::close(fd);
  }
  EXPECT_EQ(run_healthcheck("http://127.0.0.1:" + std::to_string(port) + "/healthz", 2000), 1);
}

TEST(Healthcheck, BadUrlIsUnhealthy) {
  EXPECT_EQ(run_healthcheck("https://127.0.0.1:1/healthz"), 1);
}

}  // namespace
}  // namespace relay::daemon
