// SPDX-License-Identifier: MIT
// What one WebSocket connection holds for access control: its cap slots (given back when
// it is freed) and its rate-limit buckets. Allocated only when caps or rate limits are
// configured, so an idle connection without them pays one pointer.
#pragma once

#include "access_caps.h"
#include "rate_limits.h"

namespace relay::daemon {

struct ConnectionAccess {
  AccessSlots slots;
  ConnectionRateLimits rate;
};

}  // namespace relay::daemon
