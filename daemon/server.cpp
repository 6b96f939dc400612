// Placeholder until the event loop lands (issue 3).
#include "server.h"

#include <cstdio>

namespace relay::daemon {
int run_server(Config, ConfigReloader) {
  std::fprintf(stderr, "wsrelay: server not implemented yet\n");
  return 1;
}
}  // namespace relay::daemon
