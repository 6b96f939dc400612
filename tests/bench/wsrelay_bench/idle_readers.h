// SPDX-License-Identifier: MIT
// IdleReaders: connections that upgrade to a channel and then never read (a tiny receive
// buffer, no recv() at all), for scenario I1: the relay must close them (4008, or a
// reset) without costing the subscribers that do read, and keep its memory and the
// kernel's within the README's bound. Plain blocking syscalls: they do nothing after
// the upgrade request, so they need no reactor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/socket.h"

namespace relay::bench {

class IdleReaders {
 public:
  IdleReaders() = default;
  IdleReaders(const IdleReaders&) = delete;
  IdleReaders& operator=(const IdleReaders&) = delete;
  ~IdleReaders();

  // Opens n connections to `resource` with SO_RCVBUF = rcvbuf and sends each its upgrade
  // request. False (with *error) when a connect fails.
  bool open(const net::SocketAddress& addr, const std::string& host, const std::string& resource,
            uint32_t n, int rcvbuf, std::string* error);
  // True once every connection has bytes waiting (its 101: FIONREAD, nothing is read).
  bool all_answered() const noexcept;
  // Connections the relay has closed or reset (poll: POLLHUP, POLLERR or POLLRDHUP).
  uint32_t closed() const noexcept;
  size_t size() const noexcept { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

// The kernel's TCP memory: /proc/net/sockstat "TCP: ... mem N" (pages) in kB; -1 if unread.
int64_t tcp_memory_kb() noexcept;

}  // namespace relay::bench
