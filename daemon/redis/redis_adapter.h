// SPDX-License-Identifier: MIT
// Drives a hiredis async context from our own reactor, as hiredis' adapters/ae.h does for
// Redis' ae loop: hiredis asks for read/write interest through its ev hooks, and the
// reactor's readiness reports call redisAsyncHandleRead/Write. No second loop, no thread.
#pragma once

struct redisAsyncContext;

namespace relay::net {
class Reactor;
}

namespace relay::daemon::redis {

// Registers ac's fd with the reactor. hiredis calls the cleanup hook when it frees ac,
// which unregisters the fd (before hiredis closes it) and frees the adapter's state.
// Returns false when ac already has an adapter or the fd could not be registered.
bool attach(redisAsyncContext* ac, net::Reactor& reactor) noexcept;

}  // namespace relay::daemon::redis
