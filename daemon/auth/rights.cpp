// SPDX-License-Identifier: MIT
#include "auth/rights.h"

namespace relay::auth {
namespace {

Access decide(AuthMode mode, const Identity* who, std::string_view channel, ChannelPolicy policy,
              std::span<const std::string> granted) noexcept {
  if (mode == AuthMode::kNone || policy == ChannelPolicy::kAnyone) return Access::kAllowed;
  if (who == nullptr) return Access::kUnauthenticated;
  if (policy == ChannelPolicy::kAuthenticated) return Access::kAllowed;
  return any_pattern_matches(granted, channel) ? Access::kAllowed : Access::kForbidden;
}

}  // namespace

bool is_valid_pattern(std::string_view pattern) noexcept {
  if (pattern.empty()) return false;
  size_t star = pattern.find('*');
  return star == std::string_view::npos || star == pattern.size() - 1;
}

bool pattern_matches(std::string_view pattern, std::string_view channel) noexcept {
  if (!pattern.empty() && pattern.back() == '*')
    return channel.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == channel;
}

bool any_pattern_matches(std::span<const std::string> patterns, std::string_view channel) noexcept {
  for (const auto& p : patterns)
    if (pattern_matches(p, channel)) return true;
  return false;
}

Access may_connect(AuthMode mode, const Identity* who) noexcept {
  return mode == AuthMode::kRequired && who == nullptr ? Access::kUnauthenticated
                                                       : Access::kAllowed;
}

Access may_subscribe(AuthMode mode, const Identity* who, std::string_view channel,
                     const ChannelAccess& entry) noexcept {
  return decide(
      mode, who, channel, entry.subscribe,
      who ? std::span<const std::string>(who->rights.subscribe) : std::span<const std::string>());
}

Access may_publish(AuthMode mode, const Identity* who, std::string_view channel,
                   const ChannelAccess& entry) noexcept {
  return decide(
      mode, who, channel, entry.publish,
      who ? std::span<const std::string>(who->rights.publish) : std::span<const std::string>());
}

}  // namespace relay::auth
