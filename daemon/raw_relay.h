// SPDX-License-Identifier: MIT
// RawRelay: what a /channels/{name} connection's messages mean (raw_relay.cpp): each is
// published on the connection's one channel through the Broker, as it came. No state of
// its own (it is the client's WsSession).
#pragma once

#include <span>

#include "client.h"

namespace relay::daemon {

class Server;

class RawRelay {
 public:
  explicit RawRelay(Server& server) noexcept : server_(server) {}
  void on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept;

 private:
  Server& server_;
};

}  // namespace relay::daemon
