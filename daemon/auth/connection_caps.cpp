// SPDX-License-Identifier: MIT
#include "auth/connection_caps.h"

namespace relay::auth {

bool ConnectionCaps::try_acquire(std::string_view key) {
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= max_keys_) return false;
    counts_.emplace(std::string(key), 1);
    return true;
  }
  if (limit_ != 0 && it->second >= limit_) return false;
  ++it->second;
  return true;
}

void ConnectionCaps::release(std::string_view key) noexcept {
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

uint32_t ConnectionCaps::count(std::string_view key) const noexcept {
  auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace relay::auth
