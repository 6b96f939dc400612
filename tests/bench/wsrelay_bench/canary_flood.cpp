// SPDX-License-Identifier: MIT
// K1 canary under flood: `flooders` raw-relay clients send 1-byte binary messages on
// channel "flood" as fast as the relay takes them, to `subscribers` raw subscribers that
// read (and drop) everything; meanwhile a canary publishes one message at a time on its
// own channel "canary" to one subscriber, and its round trip (publish -> delivery) is
// measured. Reports the canary's p50/p99 and the flood's throughput (deliveries/s, from
// the bytes the subscribers read: a 1-byte message is a 3-byte frame). README "Design"
// (fair turns) says what bounds the canary; the figure before it was 512 ms p50.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/clock.h"
#include "json_line.h"
#include "load.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace relay::bench {
namespace {

constexpr int64_t kCanaryGapNs = 2'000'000;   // between the canary's round trips
constexpr size_t kFloodBurst = 4096;          // 1-byte frames per prepared send buffer
constexpr size_t kFrameBytesPerDelivery = 3;  // server frame: 2-byte header + 1 byte

// A raw-relay connection set up with a blocking handshake, then non-blocking; -1 on failure.
int connect_raw(const Options& o, const char* channel) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(o.port);
  if (::inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req =
      std::string("GET /channels/") + channel + " HTTP/1.1\r\nHost: " + o.host +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 4096) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // frames after the head are dropped anyway
    if (n <= 0) break;
    head.append(buf, size_t(n));
  }
  if (head.compare(0, 12, "HTTP/1.1 101") != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Reads what is there; returns the bytes read, or -1 once the connection ended.
int64_t drain(int fd) {
  static char buf[65536];
  int64_t total = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      total += n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return total;
    return -1;
  }
}

// The flood: kFloodBurst masked 1-byte binary frames (mask 0: the payload is sent as is).
std::vector<char> flood_buffer() {
  const char frame[7] = {char(0x82), char(0x81), 0, 0, 0, 0, 'x'};
  std::vector<char> b;
  b.reserve(sizeof frame * kFloodBurst);
  for (size_t i = 0; i < kFloodBurst; ++i) b.insert(b.end(), frame, frame + sizeof frame);
  return b;
}

}  // namespace

int run_canary_flood(const Options& o) {
  Load load(o);
  const uint32_t ch = load.add_channel("canary", 1);
  load.add_ws_publisher(ch);
  load.add_subscriber(ch);
  const int64_t t0 = monotonic_ns();
  if (!load.connect_all()) {
    std::fprintf(stderr, "wsrelay-bench K1: canary setup failed: %s\n", load.error.c_str());
    return 2;
  }
  std::vector<int> readers, flooders;
  for (uint32_t i = 0; i < o.subscribers; ++i) readers.push_back(connect_raw(o, "flood"));
  for (uint32_t i = 0; i < o.flooders; ++i) flooders.push_back(connect_raw(o, "flood"));
  for (int fd : readers) {
    if (fd < 0) {
      std::fprintf(stderr, "wsrelay-bench K1: a subscriber could not connect\n");
      return 2;
    }
  }
  for (int fd : flooders) {
    if (fd < 0) return 2;
  }
  const double setup_s = double(monotonic_ns() - t0) * 1e-9;

  const std::vector<char> burst = flood_buffer();
  std::vector<size_t> burst_at(flooders.size(), 0);  // where each flooder is in the buffer
  uint64_t read_bytes = 0;
  uint64_t disconnects = 0;
  int64_t last_canary_ns = 0;
  bool measuring = false;
  load.set_max_wait_ms(1);
  load.set_on_turn([&] {
    for (size_t i = 0; i < flooders.size(); ++i) {
      for (;;) {  // as fast as the relay takes it
        ssize_t n = ::send(flooders[i], burst.data() + burst_at[i], burst.size() - burst_at[i],
                           MSG_NOSIGNAL);
        if (n <= 0) break;
        burst_at[i] = (burst_at[i] + size_t(n)) % burst.size();
      }
      (void)drain(flooders[i]);  // it is subscribed too: the other flooder's messages
    }
    for (int& fd : readers) {
      if (fd < 0) continue;
      int64_t n = drain(fd);
      if (n < 0) {
        ++disconnects;
        ::close(fd);
        fd = -1;
      } else if (measuring) {
        read_bytes += uint64_t(n);
      }
    }
    const int64_t now = monotonic_ns();
    if (load.publisher(0).in_flight() == 0 && now - last_canary_ns >= kCanaryGapNs) {
      load.publish(0, now);
      last_canary_ns = now;
    }
  });
  if (o.warmup_s > 0) load.run_for(int64_t(o.warmup_s * 1000));
  CpuSnapshot a = take_snapshot(o.relay_pid);
  load.start_measure();
  measuring = true;
  load.run_for(int64_t(o.duration_s * 1000));
  measuring = false;
  CpuUsage cpu = usage_between(a, take_snapshot(o.relay_pid));
  for (int fd : flooders) ::close(fd);
  const bool drained = load.run_until([&] { return load.all_completed(); }, 10'000);
  for (int fd : readers) {
    if (fd >= 0) ::close(fd);
  }

  const Histogram& h = load.last_latency();
  const double wall = cpu.wall_s > 0 ? cpu.wall_s : o.duration_s;
  const double deliveries = double(read_bytes / kFrameBytesPerDelivery);
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label);
  j.begin("params")
      .integer("flooders", o.flooders)
      .integer("subscribers", o.subscribers)
      .integer("size", 1)
      .end();
  j.num("setup_s", setup_s, 3).num("duration_s", wall, 3);
  j.begin("canary_rtt_us")
      .num("p50", double(h.quantile(0.50)) / 1e3, 1)
      .num("p90", double(h.quantile(0.90)) / 1e3, 1)
      .num("p99", double(h.quantile(0.99)) / 1e3, 1)
      .num("max", double(h.max()) / 1e3, 1)
      .integer("count", h.count())
      .end();
  j.num("flood_deliveries_per_s", deliveries / wall, 0)
      .num("flood_messages_per_s", deliveries / wall / double(o.subscribers ? o.subscribers : 1),
           0);
  if (cpu.relay_s >= 0) j.num("relay_cpu_util", cpu.relay_s / wall, 3);
  j.integer("disconnects", disconnects + load.counters().disconnects).boolean("drained", drained);
  // drained (the canary's last message arrived after the flood stopped) is reported, not
  // required: a starved relay may still be writing the backlog of the flood.
  const bool ok = disconnects == 0 && load.counters().disconnects == 0 && h.count() > 0;
  j.boolean("ok", ok);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace relay::bench
