// SPDX-License-Identifier: MIT
// `wsrelay --healthcheck URL`: a minimal HTTP/1.1 client for one GET on a loopback health
// endpoint. Reads only the status line; plain http:// only (the metrics listener serves
// /healthz without TLS, so a TLS relay is checked there).
#include "healthcheck.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace relay::daemon {
namespace {

constexpr size_t kMaxStatusLine = 8192;  // a longer first line is not an HTTP answer

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

int fail(const std::string& why) {
  std::fprintf(stderr, "wsrelay: healthcheck: %s\n", why.c_str());
  return 1;
}

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` has `events` or the deadline passes (false, errno = ETIMEDOUT).
bool wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return false;
    }
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

// A connected non-blocking socket to the first address of `u` that answers, or -1.
int connect_to(const HealthUrl& u, int64_t deadline, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string port = std::to_string(u.port);
  if (int rc = ::getaddrinfo(u.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    *error = "cannot resolve " + u.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int result = -1;
  for (addrinfo* ai = list; ai && result < 0; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (!wait_for(fd, POLLOUT, deadline)) {
        soerr = errno;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        soerr = errno;
      }
      rc = soerr == 0 ? 0 : -1;
      errno = soerr;
    }
    if (rc == 0) {
      result = fd;
    } else {
      *error = "connect to " + u.host + " port " + port + ": " + std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(list);
  return result;
}

bool send_all(int fd, std::string_view data, int64_t deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Reads until the end of the first line ("\r\n"), end of stream, or the size cap.
bool read_status_line(int fd, int64_t deadline, std::string* line) {
  char buf[1024];
  while (line->size() < kMaxStatusLine) {
    if (auto pos = line->find("\r\n"); pos != std::string::npos) {
      line->resize(pos);
      return true;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      line->append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      errno = ECONNRESET;  // closed before a whole status line
      return false;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline)) return false;
    } else {
      return false;
    }
  }
  errno = EMSGSIZE;
  return false;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<HealthUrl> parse_health_url(std::string_view url, std::string* error) {
  auto bad = [&](const char* why) -> std::optional<HealthUrl> {
    *error = why;
    return std::nullopt;
  };
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return bad("expected http://HOST[:PORT][/PATH]");
  for (size_t i = 0; i < kScheme.size(); ++i) {  // RFC 3986 §3.1: schemes are case-insensitive
    char c = url[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return bad("only http:// URLs are supported");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HealthUrl u;
  u.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  for (unsigned char c : u.path)
    if (c <= ' ' || c == 0x7f) return bad("the path holds a space or a control character");
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after ]");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty()) return bad("no host");
  for (unsigned char c : host)
    if (c <= ' ' || c == 0x7f || c == '/' || c == '[' || c == ']') return bad("bad host");
  u.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (!is_digits(port) || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535)
      return bad("port must be 1..65535");
    u.port = static_cast<uint16_t>(value);
  }
  return u;
}

int run_healthcheck(const std::string& url, int timeout_ms) {
  std::string error;
  auto u = parse_health_url(url, &error);
  if (!u) return fail(url + ": " + error);
  int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 1);

  FdGuard fd(connect_to(*u, deadline, &error));
  if (fd.get() < 0) return fail(error);

  bool v6 = u->host.find(':') != std::string::npos;
  std::string host_header = (v6 ? "[" + u->host + "]" : u->host) + ":" + std::to_string(u->port);
  std::string request = "GET " + u->path + " HTTP/1.1\r\nHost: " + host_header +
                        "\r\nUser-Agent: wsrelay-healthcheck\r\nAccept: */*\r\n"
                        "Connection: close\r\n\r\n";
  if (!send_all(fd.get(), request, deadline))
    return fail(std::string("sending the request: ") + std::strerror(errno));

  std::string line;
  if (!read_status_line(fd.get(), deadline, &line))
    return fail(std::string("reading the answer: ") + std::strerror(errno));
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ' ||
      !is_digits(std::string_view(line).substr(9, 3)) || (line.size() > 12 && line[12] != ' '))
    return fail("not an HTTP answer: " + line.substr(0, 80));
  std::string status = line.substr(9, 3);
  if (status != "200") return fail(url + " answered " + line.substr(9));
  return 0;
}

}  // namespace relay::daemon
