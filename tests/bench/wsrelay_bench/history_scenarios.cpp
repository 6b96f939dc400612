// SPDX-License-Identifier: MIT
// The history scenarios of issue 11 (the relay must give the channels history:
// run_all.sh starts it with "storm" history_size 100 and "mem-*" history_size 1000):
//   R1 recovery storm  a /ws publisher fills channel "storm" with --history messages
//                      (default 100, --size bytes of JSON text each); then --subscribers
//                      /ws clients (default 1,000), connected first, all subscribe at once
//                      with `recover` from the offset --history messages back: time until
//                      every client has its ack (recovered: true) and every replayed
//                      message in order, and the relay's CPU time for it
//   M1 history memory  --channels channels (100) x --history messages (1,000) of --size
//                      bytes (64) published on /ws: relay RSS growth per stored message
//                      (the first message of each channel is checked to be still stored)
// Plain blocking sockets for the setup, poll() for the storm: the figures are the
// relay's (CPU time from /proc), the clients only have to keep up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "json_line.h"
#include "proc_stats.h"
#include "scenarios.h"

namespace relay::bench {
namespace {

// A /ws (or raw) connection upgraded with a blocking handshake; -1 on failure. Bytes
// after the response head are kept in *rest.
int connect_ws(const Options& o, std::string_view path, std::string* rest) {
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
      "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + o.host +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string head;
  char buf[4096];
  size_t end;
  while ((end = head.find("\r\n\r\n")) == std::string::npos && head.size() < 8192) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, size_t(n));
  }
  if (end == std::string::npos || head.compare(0, 12, "HTTP/1.1 101") != 0) {
    ::close(fd);
    return -1;
  }
  rest->assign(head, end + 4);
  return fd;
}

// One masked text frame (mask key 0: the payload goes as is).
void append_text_frame(std::string* out, std::string_view payload) {
  out->push_back(char(0x81));
  const size_t n = payload.size();
  if (n < 126) {
    out->push_back(char(0x80 | n));
  } else if (n < 65536) {
    out->push_back(char(0x80 | 126));
    out->push_back(char(n >> 8));
    out->push_back(char(n & 0xff));
  } else {
    out->push_back(char(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) out->push_back(char((uint64_t(n) >> s) & 0xff));
  }
  out->append(4, '\0');
  out->append(payload);
}

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(size_t(n));
  }
  return true;
}

// Takes the next server frame's payload out of *buf: 1 a data frame, 0 incomplete, -1 a
// close frame (or a frame a relay never sends).
int next_frame(std::string* buf, std::string* payload) {
  if (buf->size() < 2) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(buf->data());
  uint64_t len = p[1] & 0x7f;
  size_t at = 2;
  if (len == 126) {
    if (buf->size() < 4) return 0;
    len = (uint64_t(p[2]) << 8) | p[3];
    at = 4;
  } else if (len == 127) {
    if (buf->size() < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    at = 10;
  }
  if (buf->size() < at + len) return 0;
  const int opcode = p[0] & 0x0f;
  const bool masked = p[1] & 0x80;
  payload->assign(*buf, at, size_t(len));
  buf->erase(0, at + size_t(len));
  if (opcode == 0x9 || opcode == 0xA) return next_frame(buf, payload);  // a heartbeat
  return opcode == 0x8 || masked ? -1 : 1;
}

// Blocking read of frames until one contains `needle`; false on EOF or a close.
bool read_until(int fd, std::string* buf, std::string_view needle, std::string* found) {
  char chunk[65536];
  for (;;) {
    int r;
    while ((r = next_frame(buf, found)) == 1) {
      if (found->find(needle) != std::string::npos) return true;
    }
    if (r < 0) return false;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf->append(chunk, size_t(n));
  }
}

// The number after "key": in a JSON text, or -1.
int64_t json_number(std::string_view s, std::string_view key) {
  const std::string k = "\"" + std::string(key) + "\":";
  const size_t at = s.find(k);
  if (at == std::string_view::npos) return -1;
  int64_t v = -1;
  const char* b = s.data() + at + k.size();
  (void)std::from_chars(b, s.data() + s.size(), v);
  return v;
}

std::string json_string(std::string_view s, std::string_view key) {
  const std::string k = "\"" + std::string(key) + "\":\"";
  const size_t at = s.find(k);
  if (at == std::string_view::npos) return {};
  const size_t end = s.find('"', at + k.size());
  return std::string(s.substr(at + k.size(), end - at - k.size()));
}

// Publishes `count` messages of `size` bytes of text on `channel`, then a ping that
// answers once the relay has handled (and stored) them all. Returns the ping's answer.
bool publish_and_sync(int fd, std::string* buf, std::string_view channel, uint32_t count,
                      size_t size) {
  const std::string head =
      R"({"op":"publish","channel":")" + std::string(channel) + R"(","text":")";
  std::string frames;
  std::string reply;
  for (uint32_t i = 0; i < count; ++i) {
    std::string text = std::to_string(i);
    text.resize(size > text.size() ? size : text.size(), 'x');
    append_text_frame(&frames, head + text + "\"}");
    if (frames.size() > (1u << 20) || i + 1 == count) {
      append_text_frame(&frames, R"({"op":"ping","id":"sync"})");
      if (!send_all(fd, frames) || !read_until(fd, buf, R"("id":"sync")", &reply)) return false;
      frames.clear();
    }
  }
  return true;
}

int print_failure(const Options& o, std::string_view why) {
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label).str("error", why).boolean("ok", false);
  std::printf("%s\n", j.finish().c_str());
  return 2;
}

void add_relay_cpu(JsonLine& j, const CpuUsage& u, uint64_t units, std::string_view per_key) {
  if (u.relay_s < 0) {
    j.null("relay_cpu_s").null(per_key);
    return;
  }
  j.num("relay_cpu_s", u.relay_s, 3).num(per_key, u.relay_s * 1e6 / double(units ? units : 1), 2);
  j.num("other_cpu_util", u.other_s / (u.wall_s > 0 ? u.wall_s : 1), 3);
}

// One storm client: its socket, what it has read, and how far it got.
struct StormClient {
  int fd = -1;
  std::string buf;
  bool acked = false;
  int64_t next = 0;  // the offset expected next
  int64_t last = 0;  // the last offset to replay
};

int run_recovery_storm(const Options& o) {
  const uint32_t replay = o.history;
  std::string pbuf, reply;
  const int pub = connect_ws(o, "/ws", &pbuf);
  if (pub < 0) return print_failure(o, "publisher could not connect");
  if (!publish_and_sync(pub, &pbuf, "storm", replay, o.size)) {
    ::close(pub);
    return print_failure(o, "publishing failed");
  }
  if (!send_all(pub,
                [] {
                  std::string f;
                  append_text_frame(&f,
                                    R"({"op":"history","id":"top","channel":"storm","limit":1})");
                  return f;
                }()) ||
      !read_until(pub, &pbuf, R"("id":"top")", &reply)) {
    ::close(pub);
    return print_failure(o, "history op failed");
  }
  ::close(pub);
  const std::string epoch = json_string(reply, "epoch");
  const int64_t top = json_number(reply, "offset");
  if (epoch.empty() || top < int64_t(replay))
    return print_failure(o, "no history on \"storm\" (run the relay with history_size there)");

  std::vector<StormClient> clients(o.subscribers);
  const int64_t t_setup = monotonic_ns();
  for (auto& c : clients) {
    c.fd = connect_ws(o, "/ws", &c.buf);
    if (c.fd < 0) return print_failure(o, "a client could not connect");
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    c.next = top - replay + 1;
    c.last = top;
  }
  const double setup_s = double(monotonic_ns() - t_setup) * 1e-9;
  std::string sub;
  append_text_frame(&sub, R"({"op":"subscribe","id":1,"channel":"storm","recover":{"offset":)" +
                              std::to_string(top - replay) + R"(,"epoch":")" + epoch + "\"}}");

  const CpuSnapshot a = take_snapshot(o.relay_pid);
  for (auto& c : clients) {
    if (!send_all(c.fd, sub)) return print_failure(o, "a subscribe could not be sent");
  }
  std::vector<pollfd> pfds(clients.size());
  for (size_t i = 0; i < clients.size(); ++i) pfds[i] = {clients[i].fd, POLLIN, 0};
  size_t done = 0;
  uint64_t bad_acks = 0, out_of_order = 0, closed = 0;
  const int64_t deadline = monotonic_ns() + int64_t(o.setup_timeout_s * 1e9);
  char chunk[65536];
  std::string payload;
  while (done < clients.size() && monotonic_ns() < deadline) {
    if (::poll(pfds.data(), pfds.size(), 100) <= 0) continue;
    for (size_t i = 0; i < clients.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      StormClient& c = clients[i];
      ssize_t n;
      while ((n = ::recv(c.fd, chunk, sizeof chunk, 0)) > 0) c.buf.append(chunk, size_t(n));
      int r = 1;
      while (c.next <= c.last && (r = next_frame(&c.buf, &payload)) == 1) {
        if (!c.acked) {
          c.acked = true;
          if (json_number(payload, "replayed") != int64_t(replay)) ++bad_acks;
          continue;
        }
        if (json_number(payload, "offset") != c.next) ++out_of_order;
        if (++c.next > c.last) ++done;
      }
      if (n == 0 || (c.next <= c.last && r < 0)) {
        ++closed;
        ++done;  // counted as a failure
        pfds[i].fd = -1;
      } else if (c.next > c.last) {
        pfds[i].fd = -1;
      }
    }
  }
  const CpuSnapshot b = take_snapshot(o.relay_pid);
  const CpuUsage u = usage_between(a, b);
  uint64_t incomplete = 0;
  for (auto& c : clients) {
    if (c.next <= c.last) ++incomplete;
    ::close(c.fd);
  }
  const uint64_t messages = uint64_t(replay) * clients.size();
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label);
  j.begin("params")
      .integer("clients", clients.size())
      .integer("replayed_each", replay)
      .integer("size", o.size)
      .end();
  j.num("setup_s", setup_s, 3)
      .integer("messages_replayed", messages)
      .num("seconds_to_finish", u.wall_s, 3)
      .num("replayed_per_s", double(messages) / (u.wall_s > 0 ? u.wall_s : 1), 0);
  add_relay_cpu(j, u, messages, "relay_cpu_us_per_replayed_message");
  j.integer("bad_acks", bad_acks)
      .integer("out_of_order", out_of_order)
      .integer("disconnects", closed)
      .integer("incomplete", incomplete);
  const bool ok = bad_acks + out_of_order + closed + incomplete == 0;
  j.boolean("ok", ok);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

int run_history_memory(const Options& o) {
  std::string buf, reply;
  const int fd = connect_ws(o, "/ws", &buf);
  if (fd < 0) return print_failure(o, "publisher could not connect");
  // One full batch on a channel without history first: the relay's buffers for this
  // connection have grown to their high-water mark before RSS is read.
  if (!publish_and_sync(fd, &buf, "m1-warmup", uint32_t((1u << 20) / (o.size + 48) + 1), o.size)) {
    ::close(fd);
    return print_failure(o, "publishing failed");
  }
  // A first message everywhere: the channels exist before RSS is read.
  for (uint32_t c = 0; c < o.channels; ++c) {
    if (!publish_and_sync(fd, &buf, "mem-" + std::to_string(c), 1, o.size)) {
      ::close(fd);
      return print_failure(o, "publishing failed");
    }
  }
  const int64_t rss_before = process_rss_kb(o.relay_pid);
  const int64_t t0 = monotonic_ns();
  for (uint32_t c = 0; c < o.channels; ++c) {
    if (!publish_and_sync(fd, &buf, "mem-" + std::to_string(c), o.history - 1, o.size)) {
      ::close(fd);
      return print_failure(o, "publishing failed");
    }
  }
  const double publish_s = double(monotonic_ns() - t0) * 1e-9;
  const int64_t rss_after = process_rss_kb(o.relay_pid);
  // Still stored: offset 1 (the oldest) of every channel.
  uint64_t missing = 0;
  for (uint32_t c = 0; c < o.channels; ++c) {
    std::string f;
    append_text_frame(
        &f, R"({"op":"history","id":"h","channel":"mem-)" + std::to_string(c) + R"(","limit":1})");
    if (!send_all(fd, f) || !read_until(fd, &buf, R"("id":"h")", &reply)) {
      ::close(fd);
      return print_failure(o, "history op failed");
    }
    const std::string epoch = json_string(reply, "epoch");
    f.clear();
    append_text_frame(&f, R"({"op":"history","id":"h","channel":"mem-)" + std::to_string(c) +
                              R"(","limit":1,"since":{"offset":0,"epoch":")" + epoch + "\"}}");
    if (!send_all(fd, f) || !read_until(fd, &buf, R"("id":"h")", &reply)) {
      ::close(fd);
      return print_failure(o, "history op failed");
    }
    if (json_number(reply, "offset") != int64_t(o.history) ||
        reply.find("\"offset\":1,") == std::string::npos)
      ++missing;
  }
  ::close(fd);
  const uint64_t stored = uint64_t(o.channels) * (o.history - 1);  // those measured
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label);
  j.begin("params")
      .integer("channels", o.channels)
      .integer("messages_per_channel", o.history)
      .integer("size", o.size)
      .end();
  j.num("publish_s", publish_s, 3).integer("stored_measured", stored);
  if (rss_before >= 0 && rss_after >= 0) {
    const double per = double(rss_after - rss_before) * 1024.0 / double(stored ? stored : 1);
    j.integer("rss_before_kb", uint64_t(rss_before))
        .integer("rss_after_kb", uint64_t(rss_after))
        .num("bytes_per_stored_message", per, 1)
        .num("overhead_bytes_per_message", per - double(o.size), 1);
  } else {
    j.null("bytes_per_stored_message");
  }
  j.integer("channels_missing_history", missing);
  const bool ok = missing == 0 && rss_before >= 0;
  j.boolean("ok", ok);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace

int run_history_scenario(const Options& o) {
  if (o.history < 2) {
    std::fprintf(stderr, "wsrelay-bench %s: --history must be at least 2\n", o.scenario.c_str());
    return 64;
  }
  return o.scenario == "R1" ? run_recovery_storm(o) : run_history_memory(o);
}

}  // namespace relay::bench
