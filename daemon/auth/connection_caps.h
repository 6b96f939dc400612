// SPDX-License-Identifier: MIT
// Connections per key (a token's sub, a client IP): a counting map whose entries are
// removed at zero, so its size is bounded by the live connections and by max_keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relay::auth {

class ConnectionCaps {
 public:
  // limit = connections allowed per key (0 = no limit); max_keys bounds the map.
  ConnectionCaps(uint32_t limit, size_t max_keys) noexcept : limit_(limit), max_keys_(max_keys) {}

  // Counts one more connection for `key`, or returns false (counting nothing) when the key
  // is at its limit or the map is full.
  bool try_acquire(std::string_view key);
  // Undoes one try_acquire that returned true.
  void release(std::string_view key) noexcept;

  uint32_t count(std::string_view key) const noexcept;
  size_t keys() const noexcept { return counts_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> counts_;
  uint32_t limit_;
  size_t max_keys_;
};

}  // namespace relay::auth
