// SPDX-License-Identifier: MIT
// tls-floor: the least memory an OpenSSL 3 server can hold per idle TLS 1.3 WebSocket
// connection, the floor wsrelay's wss figure is read against (issue 13). One thread,
// blocking sockets (OpenSSL's own socket BIO, no BIO pair, no buffers of ours), the same
// SSL_CTX settings as wsrelay (SSL_MODE_RELEASE_BUFFERS, TLS 1.2-1.3, tickets on): accept,
// handshake, answer the upgrade with 101, keep the SSL object, never read again. A bench
// tool, not installed.
//   tls-floor PORT CERT KEY        then: wsrelay-bench C1 --tls on --relay-pid $!
// Loopback only; it serves one connection at a time (wsrelay-bench's TLS C1 connects one
// after the other).
#include <malloc.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/handshake.h"

namespace {

// Reads the request head and answers 101; false when the client is not a WebSocket one.
bool upgrade(SSL* ssl) {
  std::string text;
  char buf[2048];
  relay::ws::HttpHead head;
  size_t head_len = 0;
  for (;;) {
    const auto in = std::as_bytes(std::span(text.data(), text.size()));
    const auto p = relay::ws::parse_request(in, relay::ws::HttpLimits{}, &head, &head_len);
    if (p == relay::ws::HttpParse::kComplete) break;
    if (p != relay::ws::HttpParse::kNeedMore) return false;
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return false;
    text.append(buf, size_t(n));
  }
  relay::ws::UpgradeRequest up;
  if (relay::ws::check_upgrade(head, &up) != 0) return false;
  char accept[relay::ws::kAcceptChars + 1];
  if (!relay::ws::compute_accept(up.key, accept)) return false;
  std::string response;
  relay::ws::build_accept_response(&response, accept, {}, {});
  return SSL_write(ssl, response.data(), int(response.size())) == int(response.size());
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  if (argc != 4 ||
      std::from_chars(argv[1], argv[1] + std::strlen(argv[1]), port).ec != std::errc()) {
    std::fprintf(stderr, "usage: tls-floor PORT CERT KEY\n");
    return 64;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
    std::fprintf(stderr, "tls-floor: cannot load %s / %s\n", argv[2], argv[3]);
    return 1;
  }
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 1024) != 0) {
    std::perror("tls-floor: bind");
    return 1;
  }
  std::vector<SSL*> held;
  for (;;) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{10, 0};  // a client that stops mid-handshake does not stop the others
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1 && upgrade(ssl)) {
      held.push_back(ssl);  // idle from now on: never read, never freed
    } else {
      SSL_free(ssl);
      ::close(fd);
    }
    // Only what the idle connections hold: the handshake's freed pages go back to the
    // kernel (wsrelay trims too, heap_trim.h), so glibc's free memory is no part of the floor.
    (void)malloc_trim(0);
  }
}
