// SPDX-License-Identifier: MIT
// TCP bytestreams and addresses behind ws.h, with libdill's signatures: now(), ipaddr_*,
// tcp_listen / tcp_accept / tcp_connect / tcp_close / tcp_fromfd. Every socket is
// non-blocking; the deadlines are kept by wait_fd() (bytestream.cpp). Resolving, listening
// and connecting are lib/net's (net/socket.h), the same code the daemon's sockets use.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "base/clock.h"
#include "net/socket.h"
#include "ws/bytestream.h"
#include "ws/handle.h"

namespace relay::ws {
namespace {

namespace net = relay::net;

// The inside of struct ipaddr: one IPv4 or IPv6 socket address.
union Addr {
  sockaddr sa;
  sockaddr_in sin;
  sockaddr_in6 sin6;
};
static_assert(sizeof(Addr) <= sizeof(ipaddr), "struct ipaddr too small");

Addr* addr_of(ipaddr* a) noexcept { return reinterpret_cast<Addr*>(a); }
const Addr* addr_of(const ipaddr* a) noexcept { return reinterpret_cast<const Addr*>(a); }
socklen_t addr_len(const Addr& a) noexcept {
  return a.sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

class TcpSock final : public HandleObject, public Bytestream {
 public:
  explicit TcpSock(int fd) noexcept : fd_(fd) {}
  ~TcpSock() override {
    if (fd_ >= 0) ::close(fd_);
  }
  int release_fd() noexcept { return std::exchange(fd_, -1); }

  void* query(HandleType type) noexcept override {
    if (type == HandleType::kBytestream) return static_cast<Bytestream*>(this);
    if (type == HandleType::kTcp) return this;
    return nullptr;
  }
  void on_close() noexcept override { close(); }

  Result<size_t> read_some(std::span<std::byte> buf) noexcept override {
    for (;;) {
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return fail(Errc::kAgain);
      return fail(Errc::kConnReset);
    }
  }
  Result<size_t> write_some(const iovec* iov, int iovcnt) noexcept override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<size_t>(iovcnt < IOV_MAX ? iovcnt : IOV_MAX);
    for (;;) {
      ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);  // EPIPE, never SIGPIPE
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return fail(Errc::kAgain);
      return fail(Errc::kConnReset);
    }
  }
  int fd() const noexcept override { return fd_; }
  void shutdown_write() noexcept override { ::shutdown(fd_, SHUT_WR); }
  // Wakes every poll() on the socket; close(2) waits for the destructor so a thread
  // still inside poll() never sees the number reused.
  void close() noexcept override { ::shutdown(fd_, SHUT_RDWR); }

 private:
  int fd_;
};

class TcpListener final : public HandleObject {
 public:
  explicit TcpListener(int fd) noexcept : fd_(fd) {}
  ~TcpListener() override { ::close(fd_); }
  void* query(HandleType type) noexcept override {
    return type == HandleType::kTcpListener ? this : nullptr;
  }
  void on_close() noexcept override { ::shutdown(fd_, SHUT_RDWR); }  // wakes tcp_accept
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// Registers a connected, non-blocking socket as a tcp handle; closes it on failure.
int make_tcp_handle(int fd) noexcept {
  auto* sock = new (std::nothrow) TcpSock(fd);
  if (!sock) {
    ::close(fd);
    errno = ENOMEM;
    return -1;
  }
  int h = hmake(sock);
  if (h < 0) delete sock;  // closes fd; errno kept by hmake
  return h;
}

void set_nodelay(int fd) noexcept {
  (void)net::set_tcp_nodelay(fd);  // fails harmlessly on AF_UNIX
}

bool valid_mode(int mode) noexcept { return mode >= 0 && mode <= IPADDR_PREF_IPV6; }

// libdill's IPADDR_* mode as lib/net's family (0 = IPADDR_PREF_IPV4, as in libdill).
net::Family family_of(int mode) noexcept {
  switch (mode) {
    case IPADDR_IPV4:
      return net::Family::kIpv4;
    case IPADDR_IPV6:
      return net::Family::kIpv6;
    case IPADDR_PREF_IPV6:
      return net::Family::kPreferIpv6;
    default:
      return net::Family::kPreferIpv4;
  }
}

net::SocketAddress socket_address(const Addr& a) noexcept {
  net::SocketAddress out;
  std::memcpy(&out.storage, &a, sizeof(a));
  out.len = addr_len(a);
  return out;
}

// Resolves `name` (lib/net's resolve_address) into the struct ipaddr.
int resolve(ipaddr* out, const char* name, int port, int mode, bool passive) noexcept {
  if (!out || port < 0 || port > 65535 || !valid_mode(mode)) {
    errno = EINVAL;
    return -1;
  }
  auto r = net::resolve_address(name, static_cast<uint16_t>(port), family_of(mode), passive);
  if (!r) {
    errno = relay::to_errno(r.error());
    return -1;
  }
  Addr a{};
  std::memcpy(&a, &r->storage, r->len);
  std::memcpy(out, &a, sizeof(a));
  return 0;
}

// Waits for a non-blocking connect(2) to finish; the socket's own object is the owner.
int finish_connect(TcpSock& sock, int64_t deadline) noexcept {
  if (auto w = wait_fd(sock.fd(), POLLOUT, deadline, sock); !w) {
    errno = to_errno(w.error());
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

}  // namespace
}  // namespace relay::ws

using namespace relay::ws;  // NOLINT: the C edge below

extern "C" {

int64_t wsr_now(void) { return relay::monotonic_ms(); }

int wsr_ipaddr_local(struct ipaddr* addr, const char* name, int port, int mode) {
  return resolve(addr, name, port, mode, true);
}

// getaddrinfo() blocks; a literal address (all wsrelay's tests use 127.0.0.1) never does.
int wsr_ipaddr_remote(struct ipaddr* addr, const char* name, int port, int mode, int64_t deadline) {
  (void)deadline;
  if (!name) {
    errno = EINVAL;
    return -1;
  }
  return resolve(addr, name, port, mode, false);
}

int wsr_ipaddr_port(const struct ipaddr* addr) {
  const Addr* a = addr_of(addr);
  return ntohs(a->sa.sa_family == AF_INET6 ? a->sin6.sin6_port : a->sin.sin_port);
}

const char* wsr_ipaddr_str(const struct ipaddr* addr, char* ipstr) {
  const Addr* a = addr_of(addr);
  const void* src = a->sa.sa_family == AF_INET6 ? static_cast<const void*>(&a->sin6.sin6_addr)
                                                : static_cast<const void*>(&a->sin.sin_addr);
  return ::inet_ntop(a->sa.sa_family, src, ipstr, IPADDR_MAXSTRLEN);
}

int wsr_tcp_listen(struct ipaddr* addr, int backlog) {
  if (!addr) {
    errno = EINVAL;
    return -1;
  }
  Addr* a = addr_of(addr);
  auto listening = net::listen_tcp(socket_address(*a), backlog, /*reuseport=*/false);
  if (!listening) {
    errno = relay::to_errno(listening.error());
    return -1;
  }
  int fd = *listening;
  socklen_t len = addr_len(*a);
  if (::getsockname(fd, &a->sa, &len) != 0) {  // port 0: report the port chosen
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  auto* l = new (std::nothrow) TcpListener(fd);
  if (!l) {
    ::close(fd);
    errno = ENOMEM;
    return -1;
  }
  int h = hmake(l);
  if (h < 0) delete l;
  return h;
}

int wsr_tcp_accept(int s, struct ipaddr* addr, int64_t deadline) {
  HandleRef pin;
  auto* l = hquery_as<TcpListener>(s, HandleType::kTcpListener, &pin);
  if (!l) return -1;
  for (;;) {
    Addr a{};
    socklen_t len = sizeof(a);
    int fd = ::accept4(l->fd(), &a.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);
      if (addr) std::memcpy(addr, &a, sizeof(a));
      return make_tcp_handle(fd);
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (auto w = wait_fd(l->fd(), POLLIN, deadline, *l); !w) {
      errno = relay::to_errno(w.error());
      return -1;
    }
  }
}

int wsr_tcp_connect(const struct ipaddr* addr, int64_t deadline) {
  if (!addr) {
    errno = EINVAL;
    return -1;
  }
  auto connecting = net::connect_tcp(socket_address(*addr_of(addr)));
  if (!connecting) {
    errno = relay::to_errno(connecting.error());
    return -1;
  }
  int fd = *connecting;
  std::unique_ptr<TcpSock> sock(new (std::nothrow) TcpSock(fd));
  if (!sock) {
    ::close(fd);
    errno = ENOMEM;
    return -1;
  }
  if (finish_connect(*sock, deadline) != 0) return -1;
  set_nodelay(fd);
  int h = hmake(sock.get());
  if (h >= 0) sock.release();
  return h;
}

// As libdill: half-close, then read and drop the rest until the other side closes too, so
// that side has seen all our data; the handle is closed whatever happens.
int wsr_tcp_close(int s, int64_t deadline) {
  HandleRef pin;
  if (hquery(s, HandleType::kTcpListener, &pin)) return wsr_hclose(s);
  if (!hquery(s, HandleType::kTcp, &pin)) return -1;
  auto* bs = static_cast<Bytestream*>(pin.get()->query(HandleType::kBytestream));
  bs->shutdown_write();
  int err = 0;
  for (;;) {
    std::byte buf[512];
    auto r = bs->read_some(buf);
    if (r && *r == 0) break;
    if (r) continue;
    if (r.error() != relay::Errc::kAgain) {
      err = relay::to_errno(r.error());
      break;
    }
    if (auto w = wait_fd(bs->fd(), POLLIN, deadline, *pin.get()); !w) {
      err = relay::to_errno(w.error());
      break;
    }
  }
  pin.reset();
  wsr_hclose(s);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}

int wsr_tcp_fromfd(int fd) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) {
    errno = EBADF;
    return -1;
  }
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    errno = EINVAL;
    return -1;
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  set_nodelay(fd);
  auto* sock = new (std::nothrow) TcpSock(fd);
  if (!sock) {
    errno = ENOMEM;
    return -1;
  }
  int h = hmake(sock);
  if (h < 0) {
    sock->release_fd();  // on failure the caller keeps its fd
    delete sock;
  }
  return h;
}

}  // extern "C"
