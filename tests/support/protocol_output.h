// SPDX-License-Identifier: MIT
// What a ws::Protocol has queued for the peer, as one string of bytes (the queue is
// emptied). Shared by the unit tests and the fuzz targets, so it includes no test framework.
#pragma once

#include <sys/uio.h>

#include <string>

#include "ws/protocol.h"

namespace relay::ws {

inline std::string drain(Protocol& p) {
  std::string s;
  iovec iov[64];
  while (!p.out().empty()) {
    const int n = p.out().gather(iov, 64);
    size_t total = 0;
    for (int i = 0; i < n; ++i) {
      s.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
      total += iov[i].iov_len;
    }
    p.out().consume(total);
  }
  return s;
}

}  // namespace relay::ws
