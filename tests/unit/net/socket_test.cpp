// SPDX-License-Identifier: MIT
// Socket helpers on 127.0.0.1 only: address parsing (good and bad), listen on port 0,
// accept (including EMFILE), options, and writev_queue against a peer that does not
// read (partial writes), a closed peer (EPIPE without SIGPIPE) and a pipe.
#include "net/socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/clock.h"

namespace relay::net {
namespace {

// ---- parse_address ------------------------------------------------------------------

struct GoodAddress {
  const char* in;
  int family;
  uint16_t port;
  const char* canonical;
};

TEST(ParseAddress, AcceptsNumericHostsAndPorts) {
  const GoodAddress cases[] = {
      {"127.0.0.1:8080", AF_INET, 8080, "127.0.0.1:8080"},
      {"0.0.0.0:0", AF_INET, 0, "0.0.0.0:0"},
      {"localhost:9000", AF_INET, 9000, "127.0.0.1:9000"},
      {"10.1.2.3:65535", AF_INET, 65535, "10.1.2.3:65535"},
      {"127.0.0.1:00080", AF_INET, 80, "127.0.0.1:80"},
      {"[::1]:80", AF_INET6, 80, "[::1]:80"},
      {"[::]:443", AF_INET6, 443, "[::]:443"},
      {"[2001:db8::1]:1", AF_INET6, 1, "[2001:db8::1]:1"},
      {"[::ffff:127.0.0.1]:8080", AF_INET6, 8080, "[::ffff:127.0.0.1]:8080"},
  };
  for (const auto& c : cases) {
    auto a = parse_address(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_EQ(a->family(), c.family) << c.in;
    EXPECT_EQ(a->port(), c.port) << c.in;
    EXPECT_EQ(a->to_string(), c.canonical) << c.in;
    auto back = parse_address(a->to_string());
    ASSERT_TRUE(back) << c.in;
    EXPECT_EQ(back->to_string(), c.canonical);
  }
}

TEST(ParseAddress, RefusesBadInput) {
  const char* bad[] = {
      "",
      ":",
      "127.0.0.1",
      "127.0.0.1:",
      ":8080",
      "127.0.0.1:65536",
      "127.0.0.1:99999",
      "127.0.0.1:123456",
      "127.0.0.1:-1",
      "127.0.0.1:+80",
      "127.0.0.1:80x",
      "127.0.0.1:8 0",
      "127.0.0.1:8080 ",
      " 127.0.0.1:8080",
      "127.0.0.1:80:80",
      "256.0.0.1:80",
      "1.2.3:80",
      "example.com:80",
      "::1:80",
      "::1",
      "[::1]",
      "[::1]80",
      "[::1]:",
      "[::1:80",
      "[]:80",
      "[127.0.0.1]:80",
      "[fe80::1%eth0]:80",
      "[::1]:80x",
      "[[::1]]:80",
  };
  for (const char* in : bad) {
    auto a = parse_address(in);
    EXPECT_FALSE(a) << "accepted '" << in << "'";
    if (!a) {
      EXPECT_EQ(a.error(), Errc::kInvalid);
    }
  }
  // An embedded NUL inside the host part (string_view keeps it).
  EXPECT_FALSE(parse_address(std::string_view("127.0.0.1\0:80", 13)));
}

// ---- listen, connect, accept --------------------------------------------------------

int fd_flags(int fd) { return fcntl(fd, F_GETFL); }
bool is_cloexec(int fd) { return fcntl(fd, F_GETFD) & FD_CLOEXEC; }

// Waits (bounded) until fd is readable.
bool wait_readable(int fd, int ms = 2000) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

struct Conn {
  int listener = -1, client = -1, server = -1;
  ~Conn() {
    for (int f : {listener, client, server})
      if (f >= 0) close(f);
  }
  void open() {
    auto addr = parse_address("127.0.0.1:0");
    ASSERT_TRUE(addr);
    auto l = listen_tcp(*addr, 16, false);
    ASSERT_TRUE(l);
    listener = *l;
    auto port = local_port(listener);
    ASSERT_TRUE(port);
    ASSERT_NE(*port, 0);
    auto to = parse_address("127.0.0.1:" + std::to_string(*port));
    ASSERT_TRUE(to);
    auto c = connect_tcp(*to);
    ASSERT_TRUE(c);
    client = *c;
    ASSERT_TRUE(wait_readable(listener));
    Accepted a = accept_nonblocking(listener);
    ASSERT_EQ(a.status, AcceptStatus::kAccepted);
    server = a.fd;
    pollfd p{client, POLLOUT, 0};
    ASSERT_EQ(poll(&p, 1, 2000), 1);
    ASSERT_EQ(socket_error(client), 0);
  }
};

// ---- resolve_address ----------------------------------------------------------------

TEST(ResolveAddress, LiteralsAndTheWildcard) {
  auto v4 = resolve_address("127.0.0.1", 8080, Family::kIpv4, false);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");
  EXPECT_EQ(v4->len, sizeof(sockaddr_in));
  auto v6 = resolve_address("::1", 9, Family::kPreferIpv4, false);  // the other family
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[::1]:9");
  auto any4 = resolve_address(nullptr, 0, Family::kPreferIpv4, true);
  ASSERT_TRUE(any4);
  EXPECT_EQ(any4->to_string(), "0.0.0.0:0");
  auto any6 = resolve_address(nullptr, 443, Family::kIpv6, true);
  ASSERT_TRUE(any6);
  EXPECT_EQ(any6->to_string(), "[::]:443");
}

TEST(ResolveAddress, WrongFamilyOrBadNameIsAddrNotAvail) {
  auto r = resolve_address("::1", 80, Family::kIpv4, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(to_errno(r.error()), EADDRNOTAVAIL);
  auto bad = resolve_address("not a host name", 80, Family::kPreferIpv4, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(to_errno(bad.error()), EADDRNOTAVAIL);
}

TEST(ResolveAddress, ResultConnectsToAListener) {
  auto any = resolve_address("127.0.0.1", 0, Family::kIpv4, true);
  ASSERT_TRUE(any);
  auto l = listen_tcp(*any, 4, false);
  ASSERT_TRUE(l);
  auto port = local_port(*l);
  ASSERT_TRUE(port);
  auto to = resolve_address("127.0.0.1", *port, Family::kIpv4, false);
  ASSERT_TRUE(to);
  auto c = connect_tcp(*to);
  ASSERT_TRUE(c);
  pollfd pfd{*c, POLLOUT, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1);
  EXPECT_EQ(socket_error(*c), 0);
  close(*c);
  close(*l);
}

TEST(Socket, ListenOnPortZeroConnectAndAccept) {
  Conn c;
  c.open();
  EXPECT_TRUE(fd_flags(c.listener) & O_NONBLOCK);
  EXPECT_TRUE(is_cloexec(c.listener));
  EXPECT_TRUE(fd_flags(c.server) & O_NONBLOCK);
  EXPECT_TRUE(is_cloexec(c.server));
  EXPECT_TRUE(fd_flags(c.client) & O_NONBLOCK);
  int reuse = 0;
  socklen_t len = sizeof reuse;
  ASSERT_EQ(getsockopt(c.listener, SOL_SOCKET, SO_REUSEADDR, &reuse, &len), 0);
  EXPECT_EQ(reuse, 1);

  ASSERT_EQ(write(c.client, "ping", 4), 4);
  ASSERT_TRUE(wait_readable(c.server));
  char buf[8];
  ASSERT_EQ(read(c.server, buf, sizeof buf), 4);
  EXPECT_EQ(std::memcmp(buf, "ping", 4), 0);

  // Nothing else is waiting.
  EXPECT_EQ(accept_nonblocking(c.listener).status, AcceptStatus::kWouldBlock);
}

TEST(Socket, TcpNodelayIsSet) {
  Conn c;
  c.open();
  ASSERT_TRUE(set_tcp_nodelay(c.server));
  int on = 0;
  socklen_t len = sizeof on;
  ASSERT_EQ(getsockopt(c.server, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
  EXPECT_EQ(on, 1);
  ASSERT_TRUE(set_tcp_nodelay(c.server, false));
  ASSERT_EQ(getsockopt(c.server, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
  EXPECT_EQ(on, 0);
  EXPECT_FALSE(set_tcp_nodelay(-1));
}

TEST(Socket, SendBufferCapAndUnsentBytes) {
  Conn c;
  c.open();
  ASSERT_TRUE(set_send_buffer(c.server, 16384));
  int size = 0;
  socklen_t len = sizeof size;
  ASSERT_EQ(getsockopt(c.server, SOL_SOCKET, SO_SNDBUF, &size, &len), 0);
  EXPECT_EQ(size, 2 * 16384);  // the kernel doubles it for its bookkeeping
  EXPECT_EQ(unsent_bytes(c.server), 0u);
  // The client reads nothing: what the server writes past the client's window stays unsent.
  std::vector<char> data(1 << 20, 'x');
  size_t written = 0;
  for (;;) {
    ssize_t n = write(c.server, data.data(), data.size());
    if (n <= 0) break;
    written += size_t(n);
  }
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, data.size());  // the cap held
  EXPECT_GT(unsent_bytes(c.server), 0u);
  EXPECT_LE(unsent_bytes(c.server), written);
  EXPECT_EQ(unsent_bytes(-1), 0u);
}

TEST(Socket, LingerResetSendsRst) {
  Conn c;
  c.open();
  ASSERT_TRUE(set_linger_reset(c.server));
  ASSERT_EQ(write(c.server, "unread", 6), 6);
  close(c.server);
  c.server = -1;
  ASSERT_TRUE(wait_readable(c.client));
  char buf[16];
  ssize_t n = read(c.client, buf, sizeof buf);
  while (n > 0) {  // the bytes may arrive before the reset
    if (!wait_readable(c.client)) break;
    n = read(c.client, buf, sizeof buf);
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST(Socket, ReuseportLetsTwoListenersShareAPort) {
  auto addr = parse_address("127.0.0.1:0");
  ASSERT_TRUE(addr);
  auto a = listen_tcp(*addr, 16, true);
  ASSERT_TRUE(a);
  auto port = local_port(*a);
  ASSERT_TRUE(port);
  auto same = parse_address("127.0.0.1:" + std::to_string(*port));
  auto b = listen_tcp(*same, 16, true);
  EXPECT_TRUE(b);
  auto c = listen_tcp(*same, 16, false);  // without SO_REUSEPORT the port is taken
  ASSERT_FALSE(c);
  EXPECT_EQ(to_errno(c.error()), EADDRINUSE);
  close(*a);
  if (b) close(*b);
}

TEST(Socket, AcceptOnNonListeningSocketFails) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  Accepted a = accept_nonblocking(fds[0]);
  EXPECT_EQ(a.status, AcceptStatus::kFailed);
  EXPECT_EQ(a.error, EINVAL);
  close(fds[0]);
  close(fds[1]);
}

// With the fd limit reached, accept reports kExhausted (not kFailed, not a spin).
TEST(Socket, AcceptReportsExhaustedOnEmfile) {
  Conn c;
  c.open();
  auto port = local_port(c.listener);
  ASSERT_TRUE(port);
  auto to = parse_address("127.0.0.1:" + std::to_string(*port));
  auto second = connect_tcp(*to);
  ASSERT_TRUE(second);
  ASSERT_TRUE(wait_readable(c.listener));

  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = dup(0);  // the lowest free number: every fd below it is in use
  ASSERT_GE(probe, 0);
  close(probe);
  rlimit tight = old;
  tight.rlim_cur = rlim_t(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
  Accepted a = accept_nonblocking(c.listener);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);

  EXPECT_EQ(a.status, AcceptStatus::kExhausted);
  EXPECT_EQ(a.error, EMFILE);
  EXPECT_EQ(a.fd, -1);
  Accepted b = accept_nonblocking(c.listener);  // the connection waited in the backlog
  EXPECT_EQ(b.status, AcceptStatus::kAccepted);
  if (b.fd >= 0) close(b.fd);
  close(*second);
}

// ---- writev_queue -------------------------------------------------------------------

std::vector<std::byte> pattern(size_t n, int seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte((i * 131 + size_t(seed) * 7) & 0xff);
  return v;
}

// Drains what is readable now from fd into out; returns bytes read.
size_t drain(int fd, std::vector<std::byte>& out) {
  size_t total = 0;
  std::byte buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
    total += size_t(n);
  }
  return total;
}

// Fills q with `frames` frames of `size` bytes, returns the concatenation.
std::vector<std::byte> fill(OutQueue& q, int frames, size_t size) {
  std::vector<std::byte> all;
  for (int i = 0; i < frames; ++i) {
    auto p = pattern(size, i);
    all.insert(all.end(), p.begin(), p.end());
    q.push(FrameRef::copy_of(p));
  }
  return all;
}

// Writer has a small send buffer and the peer does not read: the flush must stop at a
// short write with the rest still queued, then finish byte-exact as the peer drains.
// `synchronous`: the peer's buffer is the writer's (AF_UNIX), so a retry at once is
// certain to write nothing; over TCP the kernel may free send-buffer space meanwhile.
void partial_write_roundtrip(int writer, int reader, bool synchronous) {
  const int sndbuf = 4096;  // the kernel doubles it and applies a minimum
  ASSERT_EQ(setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  OutQueue q;
  constexpr int kFrames = 200;
  auto expected = fill(q, kFrames, 3000);  // 600 kB, far above any buffer here
  size_t sent_frames = 0;
  auto count = [&](const FrameRef&) { ++sent_frames; };

  FlushResult r = writev_queue(writer, q, count);
  EXPECT_EQ(r.status, FlushStatus::kBlocked);
  EXPECT_GT(r.bytes, 0u);
  EXPECT_LT(r.bytes, expected.size());
  EXPECT_EQ(q.bytes(), expected.size() - r.bytes);
  EXPECT_EQ(sent_frames, size_t(kFrames) - q.frames());
  EXPECT_EQ(sent_frames, r.bytes / 3000);  // whole frames written so far
  size_t written = r.bytes;

  if (synchronous) {  // the peer still reads nothing: a second flush writes nothing
    FlushResult again = writev_queue(writer, q, count);
    EXPECT_EQ(again.status, FlushStatus::kBlocked);
    EXPECT_EQ(again.bytes, 0u);
  }

  std::vector<std::byte> got;
  int64_t end = monotonic_ms() + 10000;
  while (!q.empty() && monotonic_ms() < end) {
    wait_readable(reader, 100);
    drain(reader, got);
    FlushResult step = writev_queue(writer, q, count);
    ASSERT_NE(step.status, FlushStatus::kFailed) << step.error;
    written += step.bytes;
  }
  ASSERT_TRUE(q.empty());
  EXPECT_EQ(written, expected.size());
  EXPECT_EQ(sent_frames, size_t(kFrames));
  while (got.size() < expected.size() && monotonic_ms() < end) {
    wait_readable(reader, 100);
    drain(reader, got);
  }
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
}

TEST(WritevQueue, PartialWritesOverSocketpair) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  partial_write_roundtrip(fds[0], fds[1], true);
  close(fds[0]);
  close(fds[1]);
}

TEST(WritevQueue, PartialWritesOverTcp) {
  Conn c;
  c.open();
  ASSERT_TRUE(set_tcp_nodelay(c.server));
  partial_write_roundtrip(c.server, c.client, false);
}

TEST(WritevQueue, ManySmallFramesGoInSeveralGatheredWritesAndDrain) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  OutQueue q;
  auto expected = fill(q, 1000, 10);  // > kMaxIovPerWrite entries: the flush must loop
  q.push(FrameRef::copy_of({}));      // a zero-length frame at the end is finished too
  size_t sent = 0;
  FlushResult r = writev_queue(fds[0], q, [&](const FrameRef&) { ++sent; });
  EXPECT_EQ(r.status, FlushStatus::kDrained);
  EXPECT_EQ(r.bytes, expected.size());
  EXPECT_EQ(sent, 1001u);
  EXPECT_TRUE(q.empty());
  std::vector<std::byte> got;
  drain(fds[1], got);
  EXPECT_TRUE(got == expected);
  // An empty queue is drained at once.
  EXPECT_EQ(writev_queue(fds[0], q).status, FlushStatus::kDrained);
  close(fds[0]);
  close(fds[1]);
}

TEST(WritevQueue, ClosedPeerFailsWithEpipeNotSigpipe) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[1]);
  OutQueue q;
  fill(q, 3, 100);
  FlushResult r = writev_queue(fds[0], q);  // SIGPIPE would kill the test here
  EXPECT_EQ(r.status, FlushStatus::kFailed);
  EXPECT_EQ(r.error, EPIPE);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(q.frames(), 3u);
  close(fds[0]);
}

TEST(WritevQueue, WorksOnAPipe) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  OutQueue q;
  auto expected = fill(q, 5, 100);
  FlushResult r = writev_queue(p[1], q);
  EXPECT_EQ(r.status, FlushStatus::kDrained);
  EXPECT_EQ(r.bytes, expected.size());
  std::vector<std::byte> got;
  drain(p[0], got);
  EXPECT_TRUE(got == expected);
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace relay::net
