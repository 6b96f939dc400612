// SPDX-License-Identifier: MIT
#include "idle_readers.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ws/handshake.h"

namespace relay::bench {

IdleReaders::~IdleReaders() {
  for (int fd : fds_) ::close(fd);
}

bool IdleReaders::open(const net::SocketAddress& addr, const std::string& host,
                       const std::string& resource, uint32_t n, int rcvbuf, std::string* error) {
  std::string req;
  char key[ws::kKeyChars + 1];
  for (uint32_t i = 0; i < n; ++i) {
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = std::string("idle reader socket: ") + std::strerror(errno);
      return false;
    }
    fds_.push_back(fd);
    // Before connect(), so the window it announces is small from the start.
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0) {
      *error = std::string("idle reader connect: ") + std::strerror(errno);
      return false;
    }
    ws::make_key(key);
    req.clear();
    ws::build_client_request(&req, resource, host, key);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
      *error = std::string("idle reader send: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool IdleReaders::all_answered() const noexcept {
  for (int fd : fds_) {
    int n = 0;
    if (::ioctl(fd, FIONREAD, &n) != 0 || n == 0) return false;
  }
  return true;
}

uint32_t IdleReaders::closed() const noexcept {
  uint32_t count = 0;
  for (int fd : fds_) {
    pollfd p{fd, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLRDHUP))) ++count;
  }
  return count;
}

int64_t tcp_memory_kb() noexcept {
  FILE* f = std::fopen("/proc/net/sockstat", "re");
  if (!f) return -1;
  char line[256];
  int64_t kb = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "TCP:", 4) != 0) continue;
    const char* mem = std::strstr(line, " mem ");
    if (mem) kb = std::strtoll(mem + 5, nullptr, 10) * (::sysconf(_SC_PAGESIZE) / 1024);
  }
  std::fclose(f);
  return kb;
}

}  // namespace relay::bench
