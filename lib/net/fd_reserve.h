// SPDX-License-Identifier: MIT
// FdReserve: one descriptor held back (/dev/null) so that a listener can still answer
// when accept() fails with EMFILE/ENFILE (as nginx and libuv's reserved fd): close the
// reserve, accept the waiting connection, answer it, close it, take the reserve back.
// Without it the connection waits in the backlog with no answer at all.
//
//   net::FdReserve reserve;  // at start-up, while descriptors are free
//   ... accept_nonblocking() said kExhausted:
//   if (reserve.refuse_one(listen_fd, "HTTP/1.1 503 ...")) ... else pause accepting
//
// close_refused() is the answer-and-close both use: a best-effort nonblocking send, the
// write side shut, input already queued read and dropped (so the close sends a FIN, not
// RST, which would destroy the answer), close.
#pragma once

#include <string_view>

namespace relay::net {

class FdReserve {
 public:
  FdReserve() noexcept;  // opens the reserve; held() says whether it worked
  ~FdReserve();
  FdReserve(const FdReserve&) = delete;
  FdReserve& operator=(const FdReserve&) = delete;

  bool held() const noexcept { return fd_ >= 0; }
  // Frees the reserve, accepts one connection from listen_fd, answers it with close_refused,
  // then takes the reserve back. True when a connection was refused this way; false when
  // the reserve is not held, no connection was waiting or accept failed again.
  bool refuse_one(int listen_fd, std::string_view answer) noexcept;

 private:
  void reopen() noexcept;
  int fd_ = -1;
};

// Sends `answer` (best effort, nonblocking; may be empty), shuts the write side, drops
// the input already queued, and closes fd.
void close_refused(int fd, std::string_view answer) noexcept;

}  // namespace relay::net
