// SPDX-License-Identifier: MIT
// Moving a TlsEngine's ciphertext to its socket: the one piece of TLS that does I/O, kept
// out of the sans-I/O engine (tls_engine.h) and sharing writev_queue's write loop.
#pragma once

#include "net/socket.h"
#include "net/tls_engine.h"

namespace relay::net {

// Sends what the engine holds for the socket (output()) until it is empty (kDrained), the
// kernel takes less than offered (kBlocked: wait for kWritable), or the socket fails
// (kFailed, error = errno). bytes counts the ciphertext sent by this call.
FlushResult flush_tls_output(int fd, TlsEngine& tls) noexcept;

}  // namespace relay::net
