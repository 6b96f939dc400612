// SPDX-License-Identifier: MIT
// API keys for HTTP publish ("Authorization: Bearer <key>"). Only SHA-256 digests are kept;
// a presented key is hashed and compared with every configured digest by CRYPTO_memcmp, so
// neither its length nor which key matched shows in the time taken.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay::auth {

enum class ApiKeyStatus : uint8_t {
  kAllowed,
  kMissing,    // no Authorization header, or not "Bearer <key>"
  kWrongKey,   // no configured key matches
  kForbidden,  // the key is valid but not for this channel
};

struct ApiKeyCheck {
  ApiKeyStatus status = ApiKeyStatus::kMissing;
  const std::string* name = nullptr;  // the matching key's name (for logs), when one matched
};

class ApiKeySet {
 public:
  // channels: patterns the key may publish on (rights.h syntax); empty = every channel.
  // False (with `error`) for a key under 16 bytes or an invalid pattern.
  bool add(std::string name, std::string_view secret, std::vector<std::string> channels,
           std::string* error);
  ApiKeyCheck check(std::string_view authorization, std::string_view channel) const;
  size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }

 private:
  struct Entry {
    std::string name;
    std::array<unsigned char, 32> digest;
    std::vector<std::string> channels;
  };
  std::vector<Entry> keys_;
};

// The credentials of "Bearer <credentials>" (scheme case-insensitive), or empty.
std::string_view bearer_credentials(std::string_view authorization) noexcept;

}  // namespace relay::auth
