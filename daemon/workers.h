// SPDX-License-Identifier: MIT
// run_workers: the daemon's entry after the config is loaded. One worker (`workers: 1`, or
// a config that needs one loop, below) is run_server() as before, on the main thread. N
// workers are N Servers, each with its own reactor, thread and connections, linked by a
// WorkerHub (README "Scaling"):
//   - listeners are bound before any thread starts (so READY=1, sent by the first worker,
//     follows every listener): one SO_REUSEPORT public socket per worker, the kernel
//     spreading connections by address hash; the metrics listener on the first worker;
//     a socket passed by systemd is shared by every worker instead;
//   - the first worker (the main thread) takes SIGTERM/SIGINT/SIGHUP and hands drain and
//     reload to the others through their inboxes; only it talks to systemd;
//   - the exit status is the first worker's, or the first non-zero of the others.
// Kept on one loop, with a warning: channels with history or presence (their state is per
// loop today) and the Redis broker.
#pragma once

#include "config.h"
#include "server.h"

namespace relay::daemon {

int run_workers(Config config, ConfigReloader reload);

// Why `config` must run on one loop ("" = it may run on several).
std::string one_loop_reason(const Config& config);

}  // namespace relay::daemon
