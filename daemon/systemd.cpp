// SPDX-License-Identifier: MIT
// sd_notify wrappers (see systemd.h). With libsystemd (WSRELAY_HAVE_SYSTEMD) they call
// sd_notify()/sd_watchdog_enabled(); without it they compile to no-ops.
#include "systemd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#if WSRELAY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace relay::daemon {
namespace {

// Workers other than the first (workers.cpp) keep quiet: one process, one voice.
thread_local bool muted = false;

// sd_notify returns > 0 when sent, 0 when NOTIFY_SOCKET is unset, < 0 on error.
bool send(const std::string& state) noexcept {
  if (muted) return false;
#if WSRELAY_HAVE_SYSTEMD
  return sd_notify(/*unset_environment=*/0, state.c_str()) > 0;
#else
  (void)state;
  return false;
#endif
}

uint64_t monotonic_usec() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

bool systemd_support_built() noexcept {
#if WSRELAY_HAVE_SYSTEMD
  return true;
#else
  return false;
#endif
}

void mute_notify_on_this_thread() noexcept { muted = true; }

bool notify_ready() noexcept { return send("READY=1"); }

bool notify_status(std::string_view status) noexcept {
  try {
    std::string line(status);
    for (char& c : line)
      if (c == '\n') c = ' ';  // one assignment per line in the notify protocol
    return send("STATUS=" + line);
  } catch (...) {  // allocation failure: a status line is not worth dying for
    return false;
  }
}

bool notify_reloading() noexcept {
  try {
    return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
  } catch (...) {
    return false;
  }
}

bool notify_stopping() noexcept { return send("STOPPING=1"); }

bool notify_watchdog() noexcept { return send("WATCHDOG=1"); }

int64_t watchdog_interval_ms() noexcept {
#if WSRELAY_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return 0;
  const uint64_t half_ms = usec / 2 / 1000;
  return half_ms > 0 ? static_cast<int64_t>(half_ms) : 1;
#else
  return 0;
#endif
}

ActivatedListeners take_activated_listeners() noexcept {
  ActivatedListeners out;
#if WSRELAY_HAVE_SYSTEMD
  char** names = nullptr;
  // unset_environment=1: LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES are gone afterwards.
  const int n = sd_listen_fds_with_names(/*unset_environment=*/1, &names);
  if (n <= 0) return out;
  try {
    for (int i = 0; i < n; ++i) {
      const int fd = SD_LISTEN_FDS_START + i;
      const std::string name = names && names[i] ? names[i] : "unknown";
      // Without FileDescriptorName= systemd names a socket after its unit (or "unknown"):
      // a single socket is the public listener whatever its name.
      const bool is_public = name == "public" || (n == 1 && name != "metrics");
      const bool is_metrics = name == "metrics";
      int* slot = is_public ? &out.public_fd : is_metrics ? &out.metrics_fd : nullptr;
      std::string why;
      if (!slot)
        why = "not named \"public\" or \"metrics\"";
      else if (*slot >= 0)
        why = "a second socket with that name";
      else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, /*listening=*/1) <= 0)
        why = "not a listening stream socket";
      else if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
               ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        why = "cannot make it nonblocking";
      if (why.empty()) {
        *slot = fd;
      } else {
        out.ignored.push_back(name + " (fd " + std::to_string(fd) + "): " + why);
        ::close(fd);
      }
    }
  } catch (...) {  // allocation failure: keep what was taken
  }
  for (int i = 0; names && i < n; ++i) std::free(names[i]);
  std::free(names);
#endif
  return out;
}

}  // namespace relay::daemon
