// SPDX-License-Identifier: MIT
// flush_tls_output: a client engine's ClientHello goes to a socketpair whole (kDrained),
// stops at a full socket (kBlocked, nothing lost) and reports a closed peer (kFailed,
// EPIPE, no SIGPIPE).
#include "net/tls_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace relay::net {
namespace {

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0);
  }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
};

// A client engine with its ClientHello waiting in output().
std::unique_ptr<TlsEngine> hello_engine(std::unique_ptr<TlsContext>* ctx) {
  TlsContextError err;
  *ctx = TlsContext::create_client("", &err);
  EXPECT_TRUE(*ctx) << err.message;
  if (!*ctx) return nullptr;
  auto e = TlsEngine::create(**ctx, TlsEngine::Role::kClient, "localhost");
  EXPECT_TRUE(e);
  if (!e) return nullptr;
  EXPECT_EQ(e->handshake().status, TlsStatus::kWantInput);
  EXPECT_GT(e->pending_output(), 0u);
  return e;
}

std::vector<std::byte> read_all(int fd) {
  std::vector<std::byte> out;
  std::byte buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.insert(out.end(), buf, buf + n);
  }
}

TEST(FlushTlsOutput, SendsEverythingAndDrains) {
  std::unique_ptr<TlsContext> ctx;
  auto e = hello_engine(&ctx);
  ASSERT_TRUE(e);
  const size_t pending = e->pending_output();
  const std::span<const std::byte> first = e->output();
  const std::vector<std::byte> want(first.begin(), first.end());
  SocketPair sp;
  FlushResult r = flush_tls_output(sp.fd[0], *e);
  EXPECT_EQ(r.status, FlushStatus::kDrained);
  EXPECT_EQ(r.bytes, pending);
  EXPECT_FALSE(e->has_pending_output());
  EXPECT_EQ(read_all(sp.fd[1]), want);
  // Nothing pending: drained at once, nothing written.
  r = flush_tls_output(sp.fd[0], *e);
  EXPECT_EQ(r.status, FlushStatus::kDrained);
  EXPECT_EQ(r.bytes, 0u);
}

TEST(FlushTlsOutput, FullSocketBlocksAndKeepsTheRest) {
  std::unique_ptr<TlsContext> ctx;
  auto e = hello_engine(&ctx);
  ASSERT_TRUE(e);
  const size_t pending = e->pending_output();
  SocketPair sp;
  std::vector<char> junk(65536, 'j');
  while (write(sp.fd[0], junk.data(), junk.size()) > 0) {
  }
  ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
  FlushResult r = flush_tls_output(sp.fd[0], *e);
  EXPECT_EQ(r.status, FlushStatus::kBlocked);
  EXPECT_EQ(r.bytes + e->pending_output(), pending);
  EXPECT_TRUE(e->has_pending_output());
  // The peer reads the junk: the rest goes out.
  read_all(sp.fd[1]);
  r = flush_tls_output(sp.fd[0], *e);
  EXPECT_EQ(r.status, FlushStatus::kDrained);
  EXPECT_FALSE(e->has_pending_output());
}

TEST(FlushTlsOutput, ClosedPeerFailsWithEpipe) {
  std::unique_ptr<TlsContext> ctx;
  auto e = hello_engine(&ctx);
  ASSERT_TRUE(e);
  SocketPair sp;
  close(sp.fd[1]);
  sp.fd[1] = -1;
  FlushResult r = flush_tls_output(sp.fd[0], *e);  // MSG_NOSIGNAL: no SIGPIPE kills us
  EXPECT_EQ(r.status, FlushStatus::kFailed);
  EXPECT_EQ(r.error, EPIPE);
  EXPECT_EQ(r.bytes, 0u);
}

}  // namespace
}  // namespace relay::net
