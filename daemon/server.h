// The relay server: listeners, clients, channels, timers and signals on one event loop.
#pragma once

#include <functional>

#include "config.h"

namespace relay::daemon {

// Re-reads the config the way start-up did (same file, same command-line overrides).
using ConfigReloader = std::function<ConfigResult()>;

// Runs the relay until SIGTERM/SIGINT drains it. Returns the process exit status
// (0 after a clean drain). Binding failures are logged and return 1.
int run_server(Config config, ConfigReloader reload);

}  // namespace relay::daemon
