// SPDX-License-Identifier: MIT
// JsonProtocol: what a /ws connection's messages mean (json_protocol.cpp): the requests of
// README "The JSON protocol on /ws", answered with acks and errors; a publish is acked when
// the Broker has accepted it. No state of its own (it is the client's WsSession).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "client.h"
#include "config.h"
#include "wire.h"

namespace relay::daemon {

class Server;

class JsonProtocol {
 public:
  explicit JsonProtocol(Server& server) noexcept : server_(server) {}
  void on_message(Client* c, bool text, std::span<const std::byte> payload) noexcept;

 private:
  void on_request(Client* c, std::string_view text) noexcept;
  void send_text(Client* c, const std::string& text) noexcept;
  // json_history.cpp: README "History and recovery" and "Presence".
  // The subscription is made: presence join, then the ack (with the stream position on a
  // channel with history) and the replay of a recovery, all in this turn.
  void after_subscribe(Client* c, const wire::Request& req, const ChannelOptions& opts) noexcept;
  void on_history(Client* c, const wire::Request& req, const ChannelOptions& opts) noexcept;
  void on_presence(Client* c, const wire::Request& req, const ChannelOptions& opts) noexcept;
  // subscribe/unsubscribe of a pattern (`chat.*`, `room.>`): json_patterns.cpp.
  void on_pattern_request(Client* c, const wire::Request& req, std::string_view text) noexcept;
  // json_auth.cpp: tokens on /ws.
  // With auth.mode required, nothing but auth is taken before it: false = refused and closing.
  bool before_auth_ok(Client* c, const wire::Request* req, std::string_view id_json) noexcept;
  void on_auth(Client* c, wire::Request& req) noexcept;  // auth and refresh
  // The channel rights of a subscribe or publish; false = refused (error sent).
  bool may(Client* c, const wire::Request& req, const ChannelOptions& opts) noexcept;

  Server& server_;
};

}  // namespace relay::daemon
