// SPDX-License-Identifier: MIT
#include "access_caps.h"

namespace relay::daemon {

bool AccessCaps::acquire(auth::ConnectionCaps& caps, std::string_view key, uint32_t limit,
                         CapSlot* slot) {
  slot->reset();
  if (limit == 0) return true;
  if (caps.count(key) >= limit || !caps.try_acquire(key)) return false;
  *slot = CapSlot(&caps, std::string(key));
  return true;
}

}  // namespace relay::daemon
