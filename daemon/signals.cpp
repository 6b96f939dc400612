// SPDX-License-Identifier: MIT
// signalfd set-up (see signals.h).
#include "signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace relay::daemon {
namespace {

sigset_t handled_set() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

int open_signal_fd() noexcept {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  if (sigaction(SIGPIPE, &ign, nullptr) != 0) return -1;
  const sigset_t set = handled_set();
  if (int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    errno = err;
    return -1;
  }
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

std::vector<int> read_signals(int fd) {
  std::vector<int> out;
  signalfd_siginfo info[8];
  for (int rounds = 0; rounds < 64; ++rounds) {  // bounded: at most 512 signals per call
    const ssize_t n = read(fd, info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const size_t count = static_cast<size_t>(n) / sizeof info[0];
    for (size_t i = 0; i < count; ++i) out.push_back(static_cast<int>(info[i].ssi_signo));
    if (count < sizeof info / sizeof info[0]) break;
  }
  return out;
}

void restore_signal_defaults() noexcept {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGPIPE, &dfl, nullptr);
  const sigset_t set = handled_set();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace relay::daemon
