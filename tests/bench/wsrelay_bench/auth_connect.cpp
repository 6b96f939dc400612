// SPDX-License-Identifier: MIT
// A1 connects with tokens: `connections` new connections on a raw channel and as many on /ws,
// at most `concurrency` being set up at once, each kept open until its path is done. With
// --token-secret (the relay runs with auth.mode "required" and that HS256 secret as kid
// "bench"), every client has its own token (its own sub and jti): the raw ones send it as the
// `token` query parameter, the /ws ones as {"op":"auth"} right after the 101. Without it,
// no token (the relay runs with auth off). A connection is ready at the 101 (raw), or at the
// auth op's {"ok":true} (/ws with tokens); the handshake time is connect() to ready, and
// connects/s is connections / the time until the last is ready. README "Securing wsrelay"
// compares the two runs (run_all.sh keys A1-off and A1-on).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "auth/token_issue.h"
#include "base/clock.h"
#include "histogram.h"
#include "json_line.h"
#include "proc_stats.h"
#include "scenarios.h"
#include "ws/handshake.h"

namespace relay::bench {
namespace {

enum class Stage : uint8_t { kConnecting, kUpgrade, kAuth, kReady, kFailed };

struct AuthConn {
  int fd = -1;
  Stage stage = Stage::kConnecting;
  int64_t start_ns = 0;
  std::string in;
};

// A masked text frame (RFC 6455 §5.3: client frames are masked) carrying `payload`.
std::string masked_text_frame(std::string_view payload) {
  std::string f;
  f.push_back(char(0x81));
  if (payload.size() < 126) {
    f.push_back(char(0x80 | payload.size()));
  } else {
    f.push_back(char(0x80 | 126));
    f.push_back(char(payload.size() >> 8));
    f.push_back(char(payload.size() & 0xff));
  }
  const unsigned char mask[4] = {0x5a, 0xc3, 0x19, 0x7e};
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(char(payload[i] ^ mask[i % 4]));
  return f;
}

void close_reset(int fd) {  // no TIME_WAIT left behind for the next run
  linger l{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

struct PathResult {
  uint64_t ready = 0;
  uint64_t failed = 0;
  double seconds = 0;
  double relay_cpu_s = -1;
  Histogram handshake;
};

// Opens tokens.size() (or opts.subscribers without tokens) connections on `path`.
PathResult run_path(const Options& o, bool ws_path, const std::vector<std::string>& tokens) {
  PathResult r;
  const uint32_t n = o.subscribers;
  const bool with_tokens = !tokens.empty();
  std::vector<AuthConn> conns(n);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  (void)::inet_pton(AF_INET, o.host == "localhost" ? "127.0.0.1" : o.host.c_str(), &addr.sin_addr);
  const std::string host = o.host + ":" + std::to_string(o.port);

  uint32_t next = 0, in_progress = 0, done = 0;
  auto finish = [&](uint32_t i, bool ok) {
    AuthConn& c = conns[i];
    (void)::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    c.stage = ok ? Stage::kReady : Stage::kFailed;
    if (ok) {
      ++r.ready;
      r.handshake.record(monotonic_ns() - c.start_ns);
    } else {
      ++r.failed;
    }
    c.in.clear();
    c.in.shrink_to_fit();
    --in_progress;
    ++done;
  };

  CpuSnapshot before = take_snapshot(o.relay_pid);
  const int64_t t0 = monotonic_ns();
  const int64_t deadline = t0 + int64_t(o.setup_timeout_s * 1e9);
  std::vector<epoll_event> events(256);
  while (done < n && monotonic_ns() < deadline) {
    while (next < n && in_progress < o.concurrency) {
      AuthConn& c = conns[next];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1;
      (void)::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c.start_ns = monotonic_ns();
      ++in_progress;
      const int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN;
      ev.data.u32 = next;
      (void)::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
      if (rc != 0 && errno != EINPROGRESS) finish(next, false);
      ++next;
    }
    const int k = ::epoll_wait(ep, events.data(), int(events.size()), 10);
    for (int e = 0; e < k; ++e) {
      const uint32_t i = events[e].data.u32;
      AuthConn& c = conns[i];
      if (c.stage == Stage::kReady || c.stage == Stage::kFailed) continue;
      if (c.stage == Stage::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        (void)::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
          finish(i, false);
          continue;
        }
        char key[ws::kKeyChars + 1];
        ws::make_key(key);
        std::string target = ws_path ? "/ws" : "/channels/a1";
        if (with_tokens && !ws_path) target += "?token=" + tokens[i];
        std::string req;
        ws::build_client_request(&req, target, host, key, {}, {}, {});
        if (::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
          finish(i, false);
          continue;
        }
        c.stage = Stage::kUpgrade;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        (void)::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        continue;
      }
      char buf[4096];
      const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        finish(i, false);
        continue;
      }
      c.in.append(buf, size_t(got));
      if (c.stage == Stage::kUpgrade) {
        const size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
          finish(i, false);
          continue;
        }
        if (!(with_tokens && ws_path)) {
          finish(i, true);
          continue;
        }
        c.in.erase(0, end + 4);
        const std::string frame =
            masked_text_frame(R"({"op":"auth","id":1,"token":")" + tokens[i] + "\"}");
        if (::send(c.fd, frame.data(), frame.size(), MSG_NOSIGNAL) != ssize_t(frame.size())) {
          finish(i, false);
          continue;
        }
        c.stage = Stage::kAuth;
      }
      if (c.stage == Stage::kAuth) {  // the ack, or an error (then a close)
        if (c.in.find(R"("ok":true)") != std::string::npos)
          finish(i, true);
        else if (c.in.find(R"("error")") != std::string::npos)
          finish(i, false);
      }
    }
  }
  r.seconds = double(monotonic_ns() - t0) * 1e-9;
  r.relay_cpu_s = usage_between(before, take_snapshot(o.relay_pid)).relay_s;
  r.failed += n - done;  // not ready before the setup timeout
  for (AuthConn& c : conns)
    if (c.fd >= 0) close_reset(c.fd);
  ::close(ep);
  return r;
}

void add_path(JsonLine& j, std::string_view name, const PathResult& r) {
  j.begin(name)
      .integer("connections", r.ready)
      .integer("failed", r.failed)
      .num("connect_s", r.seconds, 3)
      .num("connects_per_s", r.seconds > 0 ? double(r.ready) / r.seconds : 0, 0);
  if (r.relay_cpu_s >= 0 && r.ready)
    j.num("relay_cpu_us_per_connection", r.relay_cpu_s * 1e6 / double(r.ready), 1);
  j.begin("handshake_us")
      .num("p50", double(r.handshake.quantile(0.50)) * 1e-3, 1)
      .num("p99", double(r.handshake.quantile(0.99)) * 1e-3, 1)
      .num("max", double(r.handshake.max()) * 1e-3, 1)
      .end();
  j.end();
}

}  // namespace

int run_auth_connect(const Options& o) {
  const bool with_tokens = !o.token_secret.empty();
  std::vector<std::string> tokens;
  if (with_tokens) {  // made before measuring: the clients' cost is not the relay's
    auth::Key key{.kid = "bench", .alg = auth::Alg::kHS256, .secret = o.token_secret};
    tokens.reserve(o.subscribers);
    for (uint32_t i = 0; i < o.subscribers; ++i) {
      auth::TokenSpec spec{.sub = "user-" + std::to_string(i), .subscribe = {"a1"}, .ttl_s = 3600};
      tokens.push_back(auth::make_token(key, spec));
      if (tokens.back().empty()) {
        std::fprintf(stderr, "wsrelay-bench: could not sign a token\n");
        return 2;
      }
    }
  }
  const PathResult raw = run_path(o, false, tokens);
  const PathResult ws = run_path(o, true, tokens);
  const bool ok = raw.failed == 0 && ws.failed == 0;
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label).boolean("ok", ok);
  j.begin("params")
      .integer("connections", o.subscribers)
      .integer("concurrency", o.concurrency)
      .boolean("tokens", with_tokens)
      .end();
  j.integer("disconnects", raw.failed + ws.failed);
  add_path(j, "raw", raw);
  add_path(j, "ws", ws);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace relay::bench
