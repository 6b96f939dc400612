// SPDX-License-Identifier: MIT
// The Broker the config asks for (broker.type): MemoryBroker, or RedisBroker with the
// password read from broker.password_file.
#pragma once

#include <memory>

#include "broker.h"
#include "config.h"
#include "local_fanout.h"
#include "net/reactor.h"
#include "stats.h"

namespace relay::daemon {

std::unique_ptr<Broker> make_broker(const Config& config, net::Reactor& reactor,
                                    LocalFanout& fanout, Stats& stats);

}  // namespace relay::daemon
