// SPDX-License-Identifier: MIT
// TlsTransport: wss, a client's TLS engine (lib/net/tls_engine.h) between its socket and
// the same HTTP and WebSocket paths plain clients use (tls_transport.cpp). The per-client
// state is the Client's engine and its tls_* flags; this class holds none of its own.
#pragma once

#include <memory>

#include "client.h"
#include "config.h"
#include "net/socket.h"
#include "net/tls_engine.h"

namespace relay::daemon {

class Server;

// A TLS context from the config's files; null with *error naming /tls/cert or /tls/key.
std::unique_ptr<net::TlsContext> make_tls_context(const TlsConfig& tls, ConfigError* error);

class TlsTransport {
 public:
  explicit TlsTransport(Server& server) noexcept : server_(server) {}

  void read(Client* c) noexcept;  // the socket is readable
  // Encrypts the client's queue and writes the ciphertext (the TLS half of a flush).
  net::FlushResult flush(Client* c) noexcept;
  bool wants_write(Client* c) noexcept;  // ciphertext waits, or plaintext can be encrypted
  void goodbye(Client* c) noexcept;      // close_notify (or a pending alert), best effort

 private:
  void decrypt(Client* c) noexcept;  // plaintext -> HTTP session / ws, then process it
  void fail(Client* c) noexcept;     // handshake or record error: drop the client

  Server& server_;
};

}  // namespace relay::daemon
