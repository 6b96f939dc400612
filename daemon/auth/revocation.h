// SPDX-License-Identifier: MIT
// Revoked subjects and token ids. Checked when a token is verified, and against the live
// identities when a new list is loaded (their connections are closed).
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "auth/identity.h"

namespace relay::auth {

class RevocationList {
 public:
  void revoke_sub(std::string sub);
  void revoke_jti(std::string jti);
  // An identity is revoked when its non-empty sub or non-empty jti is listed.
  bool is_revoked(const Identity& who) const noexcept { return is_revoked(who.sub, who.jti); }
  bool is_revoked(std::string_view sub, std::string_view jti) const noexcept;
  size_t size() const noexcept { return subs_.size() + jtis_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Set = std::unordered_set<std::string, Hash, std::equal_to<>>;
  Set subs_;
  Set jtis_;
};

}  // namespace relay::auth
