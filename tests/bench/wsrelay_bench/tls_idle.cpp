// SPDX-License-Identifier: MIT
// C1 over wss (--tls on): N idle TLS 1.3 WebSocket connections, each upgraded on its own
// channel (or on c1), and the relay's RSS per connection from before the first one. The
// client side is plain blocking OpenSSL, one connection after the other: the figure is
// memory, not connection rate, and a TLS client in the reactor-driven Load is not needed
// for it. The certificate is not checked (loopback, the relay's own test certificate).
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "idle_readers.h"
#include "json_line.h"
#include "net/socket.h"
#include "proc_stats.h"
#include "scenarios.h"
#include "ws/handshake.h"

namespace relay::bench {
namespace {

struct TlsConn {
  int fd = -1;
  SSL* ssl = nullptr;
};

// Connects, handshakes and upgrades one connection on `target`; false on any failure.
bool open_one(SSL_CTX* ctx, const net::SocketAddress& addr, const std::string& host,
              const std::string& target, TlsConn* out, std::string* error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return *error = "socket failed", false;
  out->fd = fd;
  timeval tv{10, 0};  // a relay that stops answering fails the run, not hangs it
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0)
    return *error = "connect failed", false;
  out->ssl = SSL_new(ctx);
  if (!out->ssl || SSL_set_fd(out->ssl, fd) != 1) return *error = "SSL_new failed", false;
  if (SSL_connect(out->ssl) != 1) return *error = "TLS handshake failed", false;
  char key[ws::kKeyChars + 1] = {};
  ws::make_key(key);
  std::string req;
  ws::build_client_request(&req, target, host, key);
  if (SSL_write(out->ssl, req.data(), int(req.size())) != int(req.size()))
    return *error = "TLS write failed", false;
  std::string text;
  char buf[1024];
  ws::HttpHead head;
  size_t head_len = 0;
  for (;;) {
    const auto in = std::as_bytes(std::span(text.data(), text.size()));
    const ws::HttpParse p = ws::parse_response(in, ws::HttpLimits{}, &head, &head_len);
    if (p == ws::HttpParse::kComplete) break;
    if (p != ws::HttpParse::kNeedMore) return *error = "bad upgrade answer", false;
    const int n = SSL_read(out->ssl, buf, sizeof buf);
    if (n <= 0) return *error = "no upgrade answer", false;
    text.append(buf, size_t(n));
  }
  if (!ws::check_upgrade_response(head, key)) return *error = "upgrade refused", false;
  return true;
}

}  // namespace

int run_c1_tls(const Options& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // The client keeps no session (no resumption): every connection is a full handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // the loader's own memory, not measured
  const std::string host = o.host + ":" + std::to_string(o.port);
  auto parsed = net::parse_address(host);
  if (!parsed.has_value()) return 2;
  const net::SocketAddress addr = *parsed;

  std::vector<TlsConn> conns(o.subscribers);
  std::string error;
  const int64_t rss_start = process_rss_kb(o.relay_pid);
  const int64_t slab_start = socket_slab_bytes();
  CpuSnapshot a = take_snapshot(o.relay_pid);
  const int64_t t0 = monotonic_ns();
  uint32_t open = 0;
  for (; open < o.subscribers; ++open) {
    const std::string target =
        "/channels/" + (o.own_channels ? "c1-" + std::to_string(open) : std::string("c1"));
    if (!open_one(ctx, addr, host, target, &conns[open], &error)) break;
  }
  const double connect_s = double(monotonic_ns() - t0) * 1e-9;
  CpuUsage cpu = usage_between(a, take_snapshot(o.relay_pid));
  // Idle means idle for a while: the relay frees a connection's buffers after 100 ms without
  // bytes, and gives freed heap pages back at most once a second (heap_trim.h).
  ::usleep(1500 * 1000);
  const int64_t rss_after = process_rss_kb(o.relay_pid);
  const int64_t slab_after = socket_slab_bytes();
  // Every connection must still be open when the RSS is read: one the relay closed (its
  // ping unanswered, say) would make the figure look smaller.
  uint32_t closed = 0;
  for (uint32_t i = 0; i < open; ++i) {
    pollfd p{conns[i].fd, POLLRDHUP, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) ++closed;
  }

  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label);
  j.begin("params")
      .integer("connections", o.subscribers)
      .boolean("tls", true)
      .boolean("own_channels", o.own_channels)
      .end();
  j.integer("connections", open)
      .num("connect_s", connect_s, 3)
      .num("connects_per_s", double(open) / (connect_s > 0 ? connect_s : 1), 0);
  if (rss_start >= 0 && rss_after >= 0) {
    j.integer("rss_start_kb", uint64_t(rss_start)).integer("rss_after_kb", uint64_t(rss_after));
    j.num("rss_per_connection_from_start_bytes",
          double(rss_after - rss_start) * 1024.0 / double(open ? open : 1), 0);
  } else {
    j.null("rss_start_kb").null("rss_after_kb").null("rss_per_connection_from_start_bytes");
  }
  if (slab_start >= 0 && slab_after >= 0)
    j.num("kernel_socket_slab_per_connection_both_ends_bytes",
          double(slab_after - slab_start) / double(open ? open : 1), 0);
  else
    j.null("kernel_socket_slab_per_connection_both_ends_bytes");
  j.num("relay_cpu_ns_per_connect", cpu.relay_s >= 0 && open ? cpu.relay_s * 1e9 / open : 0, 0);
  j.integer("closed_by_relay", closed);
  const bool ok = open == o.subscribers && closed == 0;
  if (!ok) j.str("error", error);
  j.boolean("ok", ok);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  if (o.hold_s > 0) ::usleep(useconds_t(o.hold_s * 1e6));
  for (TlsConn& c : conns) {
    if (c.ssl) SSL_free(c.ssl);  // no close_notify: the relay sees a reset or EOF
    if (c.fd >= 0) ::close(c.fd);
  }
  SSL_CTX_free(ctx);
  return ok ? 0 : 2;
}

}  // namespace relay::bench
