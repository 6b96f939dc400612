// SPDX-License-Identifier: MIT
// Connection caps per client IP and per user (a token's sub): README "Caps and rate limits".
// A connection holds a CapSlot per counted key; the slot gives the count back when it is
// destroyed (with the connection's WsSession), so no close path can forget to release it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/connection_caps.h"

namespace relay::daemon {

class CapSlot {
 public:
  CapSlot() noexcept = default;
  CapSlot(auth::ConnectionCaps* caps, std::string key) noexcept
      : caps_(caps), key_(std::move(key)) {}
  CapSlot(CapSlot&& o) noexcept : caps_(o.caps_), key_(std::move(o.key_)) { o.caps_ = nullptr; }
  CapSlot& operator=(CapSlot&& o) noexcept {
    if (this != &o) {
      reset();
      caps_ = o.caps_;
      key_ = std::move(o.key_);
      o.caps_ = nullptr;
    }
    return *this;
  }
  CapSlot(const CapSlot&) = delete;
  CapSlot& operator=(const CapSlot&) = delete;
  ~CapSlot() { reset(); }

  void reset() noexcept {
    if (caps_) caps_->release(key_);
    caps_ = nullptr;
  }
  bool held() const noexcept { return caps_ != nullptr; }

 private:
  auth::ConnectionCaps* caps_ = nullptr;
  std::string key_;
};

// What a WebSocket connection counts against.
struct AccessSlots {
  CapSlot ip;
  CapSlot user;
};

class AccessCaps {
 public:
  // Bound of each map (distinct IPs / users with a live connection).
  static constexpr size_t kMaxKeys = 1'000'000;

  // Counts one connection for `ip` unless it already has `limit` (0 = no limit: nothing is
  // counted). The limit is read per call, so a reload changes it for new connections.
  bool acquire_ip(std::string_view ip, uint32_t limit, AccessSlots* slots) {
    return acquire(per_ip_, ip, limit, &slots->ip);
  }
  // The per-user hook: called once the connection's identity (sub) is known; a connection
  // that changes identity gives its old slot back first.
  bool acquire_user(std::string_view sub, uint32_t limit, AccessSlots* slots) {
    return acquire(per_user_, sub, limit, &slots->user);
  }
  uint32_t ip_count(std::string_view ip) const noexcept { return per_ip_.count(ip); }
  uint32_t user_count(std::string_view sub) const noexcept { return per_user_.count(sub); }

 private:
  static bool acquire(auth::ConnectionCaps& caps, std::string_view key, uint32_t limit,
                      CapSlot* slot);
  // Limit 0 in the maps themselves: the limit is checked here, so it can change on reload.
  auth::ConnectionCaps per_ip_{0, kMaxKeys};
  auth::ConnectionCaps per_user_{0, kMaxKeys};
};

}  // namespace relay::daemon
