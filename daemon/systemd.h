// systemd service notifications (sd_notify(3)) for Type=notify units. Every function is a
// no-op returning false when NOTIFY_SOCKET is unset, and in builds without libsystemd.
// Called from the event loop only: each is one non-blocking datagram send.
#pragma once

#include <cstdint>
#include <string_view>

namespace relay::daemon {

// True if this build talks to systemd (libsystemd was found at build time).
bool systemd_support_built() noexcept;

// Each returns true when the message was sent to NOTIFY_SOCKET.
bool notify_ready() noexcept;  // "READY=1": listeners bound (and after a reload)
bool notify_status(std::string_view status) noexcept;  // "STATUS=<status>" (one line)
bool notify_reloading() noexcept;                      // "RELOADING=1\nMONOTONIC_USEC=<now, us>"
bool notify_stopping() noexcept;                       // "STOPPING=1": drain started
bool notify_watchdog() noexcept;                       // "WATCHDOG=1"

// How often to call notify_watchdog(): half of WATCHDOG_USEC when the watchdog is on for this
// process (WATCHDOG_PID unset or ours), else 0. Rounded down to whole ms, at least 1.
int64_t watchdog_interval_ms() noexcept;

}  // namespace relay::daemon
