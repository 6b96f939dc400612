// SPDX-License-Identifier: MIT
// Sending a TLS engine's pending ciphertext to its socket: the one loop the daemon's
// flush and its close_notify share. (Temporary copy from the "shape-daemon" branch; the
// "lib-one" branch adds the same function with this exact signature, keep one on merge.)
#pragma once

#include "net/socket.h"
#include "net/tls_engine.h"

namespace relay::net {

// Writes what tls holds for the socket until it is empty (kDrained), the kernel takes
// less (kBlocked) or the socket fails (kFailed, error = errno).
FlushResult flush_tls_output(int fd, TlsEngine& tls) noexcept;

}  // namespace relay::net
