// SPDX-License-Identifier: MIT
#include "net/tls_io.h"

#include <sys/uio.h>

#include <cerrno>

namespace relay::net {

FlushResult flush_tls_output(int fd, TlsEngine& tls) noexcept {
  FlushResult r;
  while (tls.has_pending_output()) {
    std::span<const std::byte> out = tls.output();
    iovec iov{const_cast<std::byte*>(out.data()), out.size()};
    ssize_t n = detail::write_iov(fd, &iov, 1);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        r.status = FlushStatus::kBlocked;
      } else {
        r.status = FlushStatus::kFailed;
        r.error = errno;
      }
      return r;
    }
    tls.consume_output(size_t(n));
    r.bytes += size_t(n);
    if (size_t(n) < out.size()) {
      r.status = FlushStatus::kBlocked;
      return r;
    }
  }
  r.status = FlushStatus::kDrained;
  return r;
}

}  // namespace relay::net
