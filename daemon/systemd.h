// SPDX-License-Identifier: MIT
// systemd service notifications (sd_notify(3)) for Type=notify units, and the listening
// sockets of socket activation. Every notify function is a no-op returning false when
// NOTIFY_SOCKET is unset, and in builds without libsystemd.
// Called from the event loop only: each is one non-blocking datagram send.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay::daemon {

// True if this build talks to systemd (libsystemd was found at build time).
bool systemd_support_built() noexcept;

// Each returns true when the message was sent to NOTIFY_SOCKET.
bool notify_ready() noexcept;  // "READY=1": listeners bound (and after a reload)
bool notify_status(std::string_view status) noexcept;  // "STATUS=<status>" (one line)
bool notify_reloading() noexcept;                      // "RELOADING=1\nMONOTONIC_USEC=<now, us>"
bool notify_stopping() noexcept;                       // "STOPPING=1": drain started
bool notify_watchdog() noexcept;                       // "WATCHDOG=1"
// The notify functions called on this thread send nothing (the workers but the first).
void mute_notify_on_this_thread() noexcept;

// How often to call notify_watchdog(): half of WATCHDOG_USEC when the watchdog is on for this
// process (WATCHDOG_PID unset or ours), else 0. Rounded down to whole ms, at least 1.
int64_t watchdog_interval_ms() noexcept;

// Listening sockets passed by systemd (socket activation: LISTEN_PID, LISTEN_FDS,
// LISTEN_FDNAMES, read with sd_listen_fds_with_names(3)).
struct ActivatedListeners {
  int public_fd = -1;   // named "public"; or the only socket passed, whatever its name
  int metrics_fd = -1;  // named "metrics"
  // Sockets passed but not used, closed: "name (fd N): why", for a warning each.
  std::vector<std::string> ignored;
};

// Takes the sockets systemd passed to this process and unsets the LISTEN_* variables, so
// a child never takes them again. The sockets used are listening stream sockets, made
// nonblocking and close-on-exec. None passed (or no libsystemd): both fds are -1 and the
// caller binds its listeners itself.
ActivatedListeners take_activated_listeners() noexcept;

}  // namespace relay::daemon
