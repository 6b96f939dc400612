// SPDX-License-Identifier: MIT
// Signals as one more fd on the event loop (signalfd(2)), as STYLE.md §6 asks: SIGTERM and
// SIGINT drain, SIGHUP reloads. SIGPIPE is ignored so a write to a closed socket fails with
// EPIPE instead of killing the process.
#pragma once

#include <vector>

namespace relay::daemon {

// Ignores SIGPIPE, blocks SIGTERM, SIGINT and SIGHUP in the calling thread (call it before
// starting any thread, so every thread inherits the mask) and returns a non-blocking,
// close-on-exec signalfd for those three. Returns -1 with errno set on failure.
int open_signal_fd() noexcept;

// Reads every signal queued on `fd` and returns their numbers in arrival order; empty when
// none is pending (EAGAIN) or on error. Never blocks.
std::vector<int> read_signals(int fd);

// Undoes open_signal_fd's mask and SIGPIPE disposition (for tests and for exec'ing children).
void restore_signal_defaults() noexcept;

}  // namespace relay::daemon
