// SPDX-License-Identifier: MIT
// Helpers shared by the ws_* API tests (api_test.cpp, api_handshake_test.cpp, tcp_test.cpp):
// connected pairs of handles, raw peers that write frames by hand, bounded raw reads.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>

#include "ws/ws.h"

namespace api_test {

constexpr int64_t kWait = 10000;  // ms: generous bound for a step that should be instant

inline int64_t soon() { return now() + kWait; }

struct Pair {
  int server = -1;
  int client = -1;
};

// A server and a client ws handle joined by a socketpair, without the HTTP upgrade.
inline Pair ws_pair(int server_flags = 0, int client_flags = 0) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  Pair p;
  p.server =
      ws_attach_server(tcp_fromfd(sv[0]), WS_NOHTTP | server_flags, nullptr, 0, nullptr, 0, soon());
  p.client =
      ws_attach_client(tcp_fromfd(sv[1]), WS_NOHTTP | client_flags, nullptr, nullptr, soon());
  EXPECT_GE(p.server, 0);
  EXPECT_GE(p.client, 0);
  return p;
}

inline void close_pair(const Pair& p) {
  hclose(p.server);
  hclose(p.client);
}

// A ws server handle whose client is a raw socket the test writes frames into.
struct RawClient {
  int ws = -1;
  int fd = -1;
};
inline RawClient raw_client() {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  RawClient r;
  r.ws = ws_attach_server(tcp_fromfd(sv[0]), WS_NOHTTP, nullptr, 0, nullptr, 0, soon());
  r.fd = sv[1];
  EXPECT_GE(r.ws, 0);
  return r;
}

// A client frame (payload < 126 bytes) masked with the key 01 02 03 04, or unmasked.
inline std::string frame(uint8_t b0, const std::string& payload, bool masked = true) {
  std::string f;
  f.push_back(static_cast<char>(b0));
  f.push_back(static_cast<char>((masked ? 0x80 : 0) | payload.size()));
  const char key[4] = {1, 2, 3, 4};
  if (masked) f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  return f;
}

inline void write_raw(int fd, const std::string& bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// Reads exactly n bytes from a raw fd, waiting at most kWait in total.
inline std::string read_raw(int fd, size_t n) {
  std::string out;
  int64_t end = soon();
  while (out.size() < n && now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t k = read(fd, buf, std::min(sizeof(buf), n - out.size()));
    if (k <= 0) break;
    out.append(buf, static_cast<size_t>(k));
  }
  return out;
}

// A connected loopback TCP pair of plain tcp handles.
inline Pair tcp_pair() {
  ipaddr addr;
  EXPECT_EQ(ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
  int ls = tcp_listen(&addr, 8);
  EXPECT_GE(ls, 0);
  Pair p;
  p.client = tcp_connect(&addr, soon());
  p.server = tcp_accept(ls, nullptr, soon());
  EXPECT_GE(p.client, 0);
  EXPECT_GE(p.server, 0);
  hclose(ls);
  return p;
}

// Waits until another thread is blocked receiving on `h`: our own try then says EBUSY.
inline bool wait_until_busy(int h) {
  for (int i = 0; i < 5000; ++i) {
    char b[8];
    if (ws_recv(h, nullptr, b, sizeof(b), 0) < 0 && errno == EBUSY) return true;
    usleep(1000);
  }
  return false;
}

}  // namespace api_test
