// SPDX-License-Identifier: MIT
// SHA-1 (RFC 3174), for the WebSocket accept key (RFC 6455 §4.2.2) only: not for any
// security use. Our own, not OpenSSL's: in OpenSSL 3 the one-shot SHA1() fetches the
// digest from a provider, and the first fetch loads the default provider's algorithm
// tables, which pages in about 2 MiB of libcrypto and allocates its method store in a
// relay that otherwise never touches libcrypto (no TLS, no tokens); it also costs an
// EVP context per handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace relay {

inline constexpr size_t kSha1Bytes = 20;

// The digest of `in` into out.
void sha1(std::span<const std::byte> in, uint8_t out[kSha1Bytes]) noexcept;

}  // namespace relay
