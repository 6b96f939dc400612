// SPDX-License-Identifier: MIT
// TLS bytestreams behind ws.h (our extension): tls_attach_client() wraps a bytestream
// handle (tcp) into a TLS client, so ws_attach_client() speaks wss:// over it, stacked as
// in libdill: tcp_connect -> tls_attach_client -> ws_attach_client. OpenSSL reads and
// writes the inner bytestream through a small BIO; the only blocking is wait_fd() with
// the caller's deadline. The context, and so the policy (versions, verification, ALPN),
// is lib/net's TlsContext::create_client, the one the daemon's engine uses: the server is
// verified against the PEM file named by the environment variable WSRELAY_CA_FILE, else
// against the system's CA store.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

#include "net/tls_engine.h"
#include "ws/bytestream.h"
#include "ws/handle.h"

namespace relay::ws {
namespace {

constexpr size_t kRecord = 16 * 1024;  // RFC 8446 §5.1: plaintext per record

// ---- a BIO over a Bytestream: OpenSSL's reads and writes become read_some / write_some ----

int bio_read(BIO* b, char* buf, int len) {
  auto* inner = static_cast<Bytestream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  auto r = inner->read_some({reinterpret_cast<std::byte*>(buf), static_cast<size_t>(len)});
  if (r) return static_cast<int>(*r);  // 0: end of stream
  if (r.error() == Errc::kAgain) BIO_set_retry_read(b);
  return -1;
}

int bio_write(BIO* b, const char* buf, int len) {
  auto* inner = static_cast<Bytestream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  iovec iov{const_cast<char*>(buf), static_cast<size_t>(len)};
  auto r = inner->write_some(&iov, 1);
  if (r && *r > 0) return static_cast<int>(*r);
  if (r || r.error() == Errc::kAgain) BIO_set_retry_write(b);
  return -1;
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* bytestream_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "relay bytestream");
    if (m) {
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_ctrl(m, bio_ctrl);
      BIO_meth_set_create(m, bio_create);
    }
    return m;
  }();
  return method;
}

class TlsSock final : public HandleObject, public Bytestream {
 public:
  // Takes over bytestream handle `u` (pinned by `pin`, interface `inner`).
  TlsSock(int u, HandleRef pin, Bytestream* inner) noexcept
      : u_(u), pin_(std::move(pin)), inner_(inner) {}
  ~TlsSock() override {
    if (ssl_) SSL_free(ssl_);  // frees the BIO too
  }

  void* query(HandleType type) noexcept override {
    return type == HandleType::kBytestream ? static_cast<Bytestream*>(this) : nullptr;
  }
  // hclose(): a close_notify if the socket takes it at once, then the inner handle goes.
  void on_close() noexcept override {
    if (ssl_ && SSL_is_init_finished(ssl_)) {
      std::lock_guard lock(mu_);
      (void)SSL_shutdown(ssl_);
      ERR_clear_error();
    }
    (void)wsr_hclose(u_);
  }

  // SNI, the name (or address) the certificate must match, and our BIO. errno-style result.
  int init(SSL_CTX* ctx, const char* hostname) noexcept {
    ssl_ = SSL_new(ctx);
    BIO* bio = bytestream_bio_method() ? BIO_new(bytestream_bio_method()) : nullptr;
    if (!ssl_ || !bio) {
      if (bio) BIO_free(bio);
      return ENOMEM;
    }
    BIO_set_data(bio, inner_);
    SSL_set_bio(ssl_, bio, bio);
    SSL_set_connect_state(ssl_);
    const bool ok = relay::net::set_client_host(ssl_, hostname);
    return ok ? 0 : EINVAL;
  }

  // The TLS handshake, waiting with poll() up to the deadline. errno-style result.
  int handshake(int64_t deadline) noexcept {
    for (;;) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_);
      if (rc == 1) return 0;
      int e = SSL_get_error(ssl_, rc);
      short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
      if (!events) {
        bool bad_cert = SSL_get_verify_result(ssl_) != X509_V_OK;
        bool broken = e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0;
        ERR_clear_error();
        return bad_cert ? EACCES : broken ? ECONNRESET : EPROTO;
      }
      if (auto w = wait_fd(inner_->fd(), events, deadline, *this); !w) return to_errno(w.error());
    }
  }

  Result<size_t> read_some(std::span<std::byte> buf) noexcept override {
    std::lock_guard lock(mu_);
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_, buf.data(), buf.size(), &n) == 1) return n;
    return failure(&read_wait_, /*reading=*/true);
  }

  // One record per call, gathered from the iovecs. After kAgain the caller retries with
  // the same bytes (write_all and the ws flush do): OpenSSL has sealed the record and
  // only needs the same length again (SSL_write(3)).
  Result<size_t> write_some(const iovec* iov, int iovcnt) noexcept override {
    std::lock_guard lock(mu_);
    size_t len = unfinished_;
    if (len == 0) {
      for (int i = 0; i < iovcnt && len < kRecord; ++i) {
        size_t take = std::min(iov[i].iov_len, kRecord - len);
        std::memcpy(staging_.data() + len, iov[i].iov_base, take);
        len += take;
      }
      if (len == 0) return size_t{0};
    }
    size_t done = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, staging_.data(), len, &done) == 1) {
      unfinished_ = 0;
      return done;
    }
    unfinished_ = len;
    return failure(&write_wait_, /*reading=*/false);
  }

  int fd() const noexcept override { return inner_->fd(); }
  short wait_events(bool for_write) const noexcept override {
    return for_write ? write_wait_ : read_wait_;
  }
  bool has_buffered_input() const noexcept override {
    std::lock_guard lock(mu_);
    return SSL_pending(ssl_) > 0;  // decrypted bytes only, never a partial record
  }
  void shutdown_write() noexcept override {
    {
      std::lock_guard lock(mu_);
      (void)SSL_shutdown(ssl_);  // our close_notify, best effort
      ERR_clear_error();
    }
    inner_->shutdown_write();
  }
  void close() noexcept override { inner_->close(); }

 private:
  // A failed SSL call: which way to wait (kAgain), end of stream (0), or broken.
  Result<size_t> failure(short* wait, bool reading) noexcept {
    int e = SSL_get_error(ssl_, 0);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      *wait = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      return fail(Errc::kAgain);
    }
    if (reading && e == SSL_ERROR_ZERO_RETURN) return size_t{0};  // close_notify
    return fail(Errc::kConnReset);
  }

  int u_;          // the inner bytestream handle we own
  HandleRef pin_;  // keeps the inner object alive until we are destroyed
  Bytestream* inner_;
  SSL* ssl_ = nullptr;
  mutable std::mutex mu_;  // SSL is not thread-safe; a reader and a writer may share us
  short read_wait_ = POLLIN;
  short write_wait_ = POLLOUT;
  size_t unfinished_ = 0;  // length of a record OpenSSL could not hand over whole
  std::array<std::byte, kRecord> staging_{};
};

}  // namespace
}  // namespace relay::ws

using namespace relay::ws;  // NOLINT: the C edge below

extern "C" {

int wsr_tls_attach_client(int s, const char* hostname, int64_t deadline) {
  if (!hostname || !*hostname) {
    errno = EINVAL;
    return -1;
  }
  HandleRef pin;
  auto* inner = hquery_as<Bytestream>(s, HandleType::kBytestream, &pin);
  if (!inner) return -1;  // EBADF or ENOTSUP; s stays with the caller
  int u = hown(s);        // from here we own the bytestream handle
  if (u < 0) return -1;
  auto fail = [&](int err) {
    wsr_hclose(u);
    errno = err;
    return -1;
  };
  // lib/net's client policy: TLS 1.2 and 1.3, the peer verified, ALPN http/1.1 offered.
  const char* ca = std::getenv("WSRELAY_CA_FILE");
  relay::net::TlsContextError ctx_error;
  auto ctx = relay::net::TlsContext::create_client(ca ? ca : "", &ctx_error);
  if (!ctx) return fail(ctx_error.file == relay::net::TlsFile::kCa ? ENOENT : ENOMEM);
  std::unique_ptr<TlsSock> self(new (std::nothrow) TlsSock(u, std::move(pin), inner));
  if (!self) return fail(ENOMEM);
  int err = self->init(ctx->native(), hostname);  // the SSL takes its own reference
  if (!err) err = self->handshake(deadline);
  if (err) {
    self.reset();
    return fail(err);
  }
  int h = hmake(self.get());
  if (h < 0) {
    err = errno;
    self.reset();
    return fail(err);
  }
  self.release();  // the handle table owns it now
  return h;
}

}  // extern "C"
