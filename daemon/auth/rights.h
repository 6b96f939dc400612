// SPDX-License-Identifier: MIT
// Who may subscribe to or publish on a channel. Decided once per subscription (or per
// publish request), O(patterns in the token); never per delivered message.
//
// Pattern syntax is the config's channel `match`: an exact name, or a prefix ending in '*'
// ("chat.*" matches "chat.lobby" and "chat.a.b"; "*" matches every channel).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "auth/identity.h"

namespace relay::auth {

// The server-wide mode: kNone ignores tokens (everyone may do everything), kOptional lets
// clients without a token in as anonymous, kRequired refuses them at connect.
enum class AuthMode : uint8_t { kNone, kOptional, kRequired };

// A channel entry's policy, one for subscribing and one for publishing.
enum class ChannelPolicy : uint8_t {
  kAnyone,         // anonymous clients too
  kAuthenticated,  // any valid token
  kClaims,         // only tokens whose subscribe/publish claim names the channel
};

struct ChannelAccess {
  ChannelPolicy subscribe = ChannelPolicy::kAnyone;
  ChannelPolicy publish = ChannelPolicy::kAnyone;
  bool operator==(const ChannelAccess&) const = default;
};

enum class Access : uint8_t {
  kAllowed,
  kUnauthenticated,  // needs a token (close/refuse with "unauthorized")
  kForbidden,        // the token does not grant this channel
};

bool is_valid_pattern(std::string_view pattern) noexcept;  // non-empty, '*' only at the end
bool pattern_matches(std::string_view pattern, std::string_view channel) noexcept;
bool any_pattern_matches(std::span<const std::string> patterns, std::string_view channel) noexcept;

// May a client connect at all? `who` is null for a client without a token.
Access may_connect(AuthMode mode, const Identity* who) noexcept;
Access may_subscribe(AuthMode mode, const Identity* who, std::string_view channel,
                     const ChannelAccess& entry) noexcept;
Access may_publish(AuthMode mode, const Identity* who, std::string_view channel,
                   const ChannelAccess& entry) noexcept;

}  // namespace relay::auth
