// SPDX-License-Identifier: MIT
#include "broker_factory.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "memory_broker.h"
#include "redis/redis_broker.h"

namespace relay::daemon {
namespace {

// The file's content without its trailing newline ("" when unset or unreadable: logged,
// and Redis then refuses the connection loudly, see the log).
std::string read_password(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    spdlog::error("broker: cannot read broker.password_file {}", path);
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  std::string p = s.str();
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

}  // namespace

std::unique_ptr<Broker> make_broker(const Config& config, net::Reactor& reactor,
                                    LocalFanout& fanout, Stats& stats) {
  if (config.broker.type == "redis")
    return std::make_unique<redis::RedisBroker>(reactor, fanout, stats, config,
                                                read_password(config.broker.password_file));
  stats.broker_up = 1;
  return std::make_unique<MemoryBroker>(fanout, config.limits.max_history_bytes);
}

}  // namespace relay::daemon
