// SPDX-License-Identifier: MIT
// FdReserve: a /dev/null descriptor traded for one accept at the descriptor limit.
#include "net/fd_reserve.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace relay::net {

FdReserve::FdReserve() noexcept { reopen(); }

FdReserve::~FdReserve() {
  if (fd_ >= 0) ::close(fd_);
}

void FdReserve::reopen() noexcept {
  if (fd_ < 0) fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool FdReserve::refuse_one(int listen_fd, std::string_view answer) noexcept {
  if (fd_ < 0) {
    reopen();  // descriptors may have come back since
    return false;
  }
  ::close(fd_);
  fd_ = -1;
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) close_refused(fd, answer);
  reopen();
  return fd >= 0;
}

void close_refused(int fd, std::string_view answer) noexcept {
  if (!answer.empty()) (void)::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  (void)::shutdown(fd, SHUT_WR);
  // A request that arrived with the connection is still unread: read it away (bounded),
  // so that close() ends with a FIN after the answer rather than a reset.
  std::byte scratch[4096];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    break;
  }
  ::close(fd);
}

}  // namespace relay::net
