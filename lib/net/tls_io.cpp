// SPDX-License-Identifier: MIT
// flush_tls_output (see tls_io.h).
#include "net/tls_io.h"

namespace relay::net {

FlushResult flush_tls_output(int fd, TlsEngine& tls) noexcept {
  auto gather = [&](iovec* iov, int) {
    const std::span<const std::byte> out = tls.output();  // a ring: one contiguous part
    if (out.empty()) return 0;
    iov[0] = iovec{const_cast<std::byte*>(out.data()), out.size()};
    return 1;
  };
  auto consume = [&](size_t n) { tls.consume_output(n); };
  return detail::write_loop<1>(fd, gather, consume);
}

}  // namespace relay::net
