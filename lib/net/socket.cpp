// SPDX-License-Identifier: MIT
// Socket helpers: parse_address, listen/accept/connect, options, the iovec write.
#include "net/socket.h"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relay::net {
namespace {

Unexpected fail_errno() noexcept { return fail(static_cast<Errc>(errno)); }

// Decimal 0..65535, at least one digit, nothing else.
bool parse_port(std::string_view s, uint16_t* out) noexcept {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint32_t(c - '0');
  }
  if (v > 65535) return false;
  *out = uint16_t(v);
  return true;
}

bool parse_ipv4(std::string_view host, uint16_t port, SocketAddress* a) noexcept {
  if (host == "localhost") host = "127.0.0.1";
  char buf[INET_ADDRSTRLEN];
  if (host.empty() || host.size() >= sizeof buf) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* sin = reinterpret_cast<sockaddr_in*>(&a->storage);
  if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1) return false;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  a->len = sizeof(sockaddr_in);
  return true;
}

bool parse_ipv6(std::string_view host, uint16_t port, SocketAddress* a) noexcept {
  char buf[INET6_ADDRSTRLEN];
  if (host.empty() || host.size() >= sizeof buf) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a->storage);
  if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) return false;  // refuses "%scope"
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  a->len = sizeof(sockaddr_in6);
  return true;
}

Result<void> set_int_option(int fd, int level, int name, int value) noexcept {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) return fail_errno();
  return {};
}

}  // namespace

uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  std::string out;
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    out = buf;
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
              sizeof buf);
    out = std::string("[") + buf + "]";
  } else {
    return "?";
  }
  return out + ":" + std::to_string(port());
}

Result<SocketAddress> parse_address(std::string_view s) {
  if (s.find('\0') != std::string_view::npos)
    return fail(Errc::kInvalid);  // inet_pton stops at NUL
  SocketAddress a;
  uint16_t port = 0;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return fail(Errc::kInvalid);
    if (!parse_port(s.substr(close + 2), &port)) return fail(Errc::kInvalid);
    if (!parse_ipv6(s.substr(1, close - 1), port, &a)) return fail(Errc::kInvalid);
    return a;
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return fail(Errc::kInvalid);
  std::string_view host = s.substr(0, colon);
  if (host.find(':') != std::string_view::npos) return fail(Errc::kInvalid);  // "::1:80"
  if (!parse_port(s.substr(colon + 1), &port)) return fail(Errc::kInvalid);
  if (!parse_ipv4(host, port, &a)) return fail(Errc::kInvalid);
  return a;
}

Result<SocketAddress> resolve_address(const char* host, uint16_t port, Family family,
                                      bool passive) {
  const bool v6 = family == Family::kIpv6 || family == Family::kPreferIpv6;
  SocketAddress a;
  if (!host) {  // the wildcard address
    if (v6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_any;
      sin6->sin6_port = htons(port);
      a.len = sizeof(sockaddr_in6);
    } else {
      auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
      sin->sin_port = htons(port);
      a.len = sizeof(sockaddr_in);
    }
    return a;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = family == Family::kIpv4   ? AF_INET
                    : family == Family::kIpv6 ? AF_INET6
                                              : AF_UNSPEC;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* list = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &list) != 0 || !list)
    return fail(static_cast<Errc>(EADDRNOTAVAIL));
  const int want = v6 ? AF_INET6 : AF_INET;
  const addrinfo* pick = nullptr;
  for (const addrinfo* it = list; it && !pick; it = it->ai_next)
    if (it->ai_family == want) pick = it;
  for (const addrinfo* it = list; it && !pick; it = it->ai_next)  // the other family
    if (it->ai_family == AF_INET || it->ai_family == AF_INET6) pick = it;
  if (pick) {
    std::memcpy(&a.storage, pick->ai_addr, pick->ai_addrlen);
    a.len = pick->ai_addrlen;
  }
  freeaddrinfo(list);
  if (!pick) return fail(static_cast<Errc>(EADDRNOTAVAIL));
  if (a.family() == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
  return a;
}

Result<int> listen_tcp(const SocketAddress& addr, int backlog, bool reuseport) {
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return fail_errno();
  auto fail_close = [fd]() {
    int err = errno;
    ::close(fd);
    return fail(static_cast<Errc>(err));
  };
  if (!set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1)) return fail_close();
  if (reuseport && !set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1)) return fail_close();
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0)
    return fail_close();
  if (listen(fd, backlog) != 0) return fail_close();
  return fd;
}

Result<int> connect_tcp(const SocketAddress& addr) {
  int fd = socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return fail_errno();
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.len) != 0 &&
      errno != EINPROGRESS && errno != EINTR) {
    int err = errno;
    ::close(fd);
    return fail(static_cast<Errc>(err));
  }
  return fd;
}

Accepted accept_nonblocking(int listen_fd) noexcept {
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return Accepted{AcceptStatus::kAccepted, fd, 0};
    switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return Accepted{AcceptStatus::kWouldBlock, -1, 0};
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        return Accepted{AcceptStatus::kExhausted, -1, errno};
      // accept(2), Linux: "already-pending network errors on the new socket" come back
      // from accept; they concern that connection only, so try the next one.
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
      case EPERM:  // a firewall rule refused this one connection
        continue;
      default:
        return Accepted{AcceptStatus::kFailed, -1, errno};
    }
  }
  return Accepted{AcceptStatus::kWouldBlock, -1, 0};
}

Result<void> set_tcp_nodelay(int fd, bool on) noexcept {
  return set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

Result<void> set_send_buffer(int fd, int bytes) noexcept {
  return set_int_option(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

Result<void> set_linger_reset(int fd) noexcept {
  const linger l{1, 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0) return fail_errno();
  return {};
}

size_t unsent_bytes(int fd) noexcept {
  int n = 0;
  if (::ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0) return 0;
  return size_t(n);
}

Result<uint16_t> local_port(int fd) noexcept {
  SocketAddress a;
  a.len = sizeof a.storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.len) != 0) return fail_errno();
  if (a.family() != AF_INET && a.family() != AF_INET6) return fail(Errc::kNotSup);
  return a.port();
}

int socket_error(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

namespace detail {
ssize_t write_iov(int fd, const iovec* iov, int n) noexcept {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = size_t(n);
  for (;;) {
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno != ENOTSOCK) return -1;
    // A pipe or file (tests, stdout tools): plain writev; SIGPIPE is the caller's.
    do {
      w = ::writev(fd, iov, n);
    } while (w < 0 && errno == EINTR);
    return w;
  }
}
}  // namespace detail

}  // namespace relay::net
