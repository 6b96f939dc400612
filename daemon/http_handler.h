// SPDX-License-Identifier: MIT
// HttpHandler: the HTTP phase of a connection (http_handler.cpp). Request heads on a
// keep-alive connection, routes (health, readiness, metrics, demo page), the WebSocket
// upgrade (origin, subprotocol, limits) that ends the phase, and HTTP publish, whose
// 200 goes out when the broker has accepted the message. State lives in the client's
// HttpSession; this class holds none of its own.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "broker.h"
#include "client.h"
#include "refused_origin_log.h"
#include "ws/handshake.h"

namespace relay::daemon {

class Server;

class HttpHandler {
 public:
  explicit HttpHandler(Server& server) noexcept : server_(server) {}

  // Handles the complete requests in the client's input (after new bytes arrived).
  void process(Client* c) noexcept;
  // Answers with status and closes once it is sent (no keep-alive).
  void refuse(Client* c, int status, std::string_view body, std::string_view extra = {}) noexcept;

 private:
  // Returns false when the client is done with HTTP (upgraded or closing).
  bool handle_request(Client* c, const ws::HttpHead& req, size_t head_len) noexcept;
  bool handle_upgrade(Client* c, const ws::HttpHead& req, size_t head_len, bool json,
                      std::string_view channel) noexcept;
  void handle_preflight(Client* c, const ws::HttpHead& req, size_t head_len) noexcept;
  bool take_ip_slot(Client* c, const ws::HttpHead& req,
                    std::unique_ptr<ConnectionAccess>* access) noexcept;
  // The Origin check of upgrades and HTTP publish (origin.h); a refusal is logged once.
  bool origin_allowed(std::string_view origin, std::string_view host) noexcept;
  void handle_publish_body(Client* c, std::span<const std::byte> body) noexcept;
  void on_published(Client* c, const PublishResult& r) noexcept;
  void respond(Client* c, int status, std::string_view type, std::string_view body,
               std::string_view extra = {}, bool head_only = false) noexcept;

  Server& server_;
  RefusedOriginLog refused_origins_;
};

}  // namespace relay::daemon
