// SPDX-License-Identifier: MIT
#include "auth/revocation.h"

namespace relay::auth {

void RevocationList::revoke_sub(std::string sub) {
  if (!sub.empty()) subs_.insert(std::move(sub));
}

void RevocationList::revoke_jti(std::string jti) {
  if (!jti.empty()) jtis_.insert(std::move(jti));
}

bool RevocationList::is_revoked(std::string_view sub, std::string_view jti) const noexcept {
  return (!sub.empty() && subs_.find(sub) != subs_.end()) ||
         (!jti.empty() && jtis_.find(jti) != jtis_.end());
}

}  // namespace relay::auth
