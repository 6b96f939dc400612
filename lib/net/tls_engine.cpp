// SPDX-License-Identifier: MIT
// TlsContext and TlsEngine (see tls_engine.h): OpenSSL over a BIO pair, no syscalls.
// OpenSSL's error queue is per thread and shared by every connection on it, so each
// operation starts with an empty queue and every failure empties it again.
#include "net/tls_engine.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <climits>
#include <new>

#include "base/assert.h"
#include "base/clock.h"
#include "base/heap_trim.h"

namespace relay::net {
namespace {

// ALPN wire format: length-prefixed names (RFC 7301 §3.1).
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";

// A sealed record may exceed its plaintext by this much: TLS 1.3 adds 22 bytes (header,
// content type, AEAD tag); TLS 1.2 CBC with SHA-384 about 330 (IV, MAC, padding).
constexpr size_t kRecordOverhead = 512;

// Never prompt on a terminal for an encrypted key: refuse it.
int no_passphrase(char*, int, int, void*) { return -1; }

// OpenSSL's reason for the oldest error in the queue (the root cause), then clears it.
std::string take_error(const char* fallback) {
  unsigned long e = ERR_peek_error();
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    if (reason) {
      out = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out = buf;
    }
  } else {
    out = fallback;
  }
  ERR_clear_error();
  return out;
}

// RFC 7301 §3.2: pick http/1.1 from the client's list, or end the handshake with a
// no_application_protocol alert when it offers only protocols we do not speak.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  unsigned char selected_len = 0;
  if (inlen == 0 || SSL_select_next_proto(&selected, &selected_len, kAlpnHttp11, sizeof kAlpnHttp11,
                                          in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *outlen = selected_len;
  return SSL_TLSEXT_ERR_OK;
}

// Settings every context shares: TLS 1.2 and 1.3 only, no renegotiation (a client could
// otherwise make the server redo expensive handshakes), no compression (CRIME).
SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle connections give their record buffers back (thousands of idle subscribers).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  return ctx;
}

// A context factory's failure: frees the half-built context and says which file and why.
std::unique_ptr<TlsContext> context_failure(TlsContextError* error, SSL_CTX* ctx, TlsFile file,
                                            std::string message) {
  if (ctx) SSL_CTX_free(ctx);
  if (error) *error = TlsContextError{file, std::move(message)};
  return nullptr;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, size_t(n)) : std::string();
}

}  // namespace

// ---- TlsContext ------------------------------------------------------------------------

std::unique_ptr<TlsContext> TlsContext::create_server(const std::string& cert_path,
                                                      const std::string& key_path,
                                                      TlsContextError* error) {
  ERR_clear_error();
  SSL_CTX* ctx = new_context(TLS_server_method());
  if (!ctx)
    return context_failure(error, nullptr, TlsFile::kNone,
                           "cannot create a TLS context: " + take_error("out of memory"));
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.3: AES-128-GCM first (as Go's crypto/tls), then ChaCha20, then AES-256-GCM
  // (OpenSSL's default puts it first). Its cipher state is about 200 bytes smaller per
  // connection in each direction's context, and it encrypts faster with AES-NI.
  if (SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1)
    return context_failure(error, ctx, TlsFile::kNone,
                           "cannot set the TLS 1.3 cipher suites: " + take_error("unknown error"));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1)
    return context_failure(error, ctx, TlsFile::kCert,
                           "cannot load a PEM certificate chain from " + cert_path + ": " +
                               take_error("unknown error"));
  const std::string mismatch =
      "the key in " + key_path + " does not match the certificate in " + cert_path;
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return context_failure(error, ctx, TlsFile::kKey, mismatch);
    }
    return context_failure(error, ctx, TlsFile::kKey,
                           "cannot load an unencrypted PEM private key from " + key_path + ": " +
                               take_error("unknown error"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return context_failure(error, ctx, TlsFile::kKey, mismatch);
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  // Session resumption (tickets, OpenSSL's default) works across contexts of one process.
  static const unsigned char kSessionContext[] = "wsrelay";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  auto* c = new (std::nothrow) TlsContext(ctx);
  if (!c) return context_failure(error, ctx, TlsFile::kNone, "out of memory");
  return std::unique_ptr<TlsContext>(c);
}

std::unique_ptr<TlsContext> TlsContext::create_client(const std::string& ca_path,
                                                      TlsContextError* error) {
  ERR_clear_error();
  SSL_CTX* ctx = new_context(TLS_client_method());
  if (!ctx)
    return context_failure(error, nullptr, TlsFile::kNone,
                           "cannot create a TLS context: " + take_error("out of memory"));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (ca_path.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return context_failure(error, ctx, TlsFile::kCa,
                             "cannot load the system's CA store: " + take_error("unknown error"));
  } else if (SSL_CTX_load_verify_locations(ctx, ca_path.c_str(), nullptr) != 1) {
    return context_failure(
        error, ctx, TlsFile::kCa,
        "cannot load PEM CA certificates from " + ca_path + ": " + take_error("unknown error"));
  }
  if (SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof kAlpnHttp11) != 0)  // 0 = success here
    return context_failure(error, ctx, TlsFile::kNone,
                           "cannot set ALPN: " + take_error("unknown error"));
  auto* c = new (std::nothrow) TlsContext(ctx);
  if (!c) return context_failure(error, ctx, TlsFile::kNone, "out of memory");
  return std::unique_ptr<TlsContext>(c);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }  // engines keep their own references

std::string TlsContext::describe_certificate() const {
  X509* cert = SSL_CTX_get0_certificate(ctx_);
  if (!cert) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), &BIO_free);
  if (!b) return {};
  BIO_puts(b.get(), "subject ");
  X509_NAME_print_ex(b.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  BIO_puts(b.get(), ", serial ");
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      BIO_puts(b.get(), hex);
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  BIO_puts(b.get(), ", expires ");
  ASN1_TIME_print(b.get(), X509_get0_notAfter(cert));
  std::string out = bio_text(b.get());
  ERR_clear_error();
  return out;
}

bool set_client_host(ssl_st* ssl, const char* host) noexcept {
  unsigned char addr[16];
  const bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
  // An address is matched against the certificate's IP SANs and sent without SNI
  // (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
  const bool ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                        : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
  ERR_clear_error();
  return ok;
}

// ---- TlsEngine ---------------------------------------------------------------------------

std::unique_ptr<TlsEngine> TlsEngine::create(const TlsContext& ctx, Role role,
                                             std::string_view host) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx.native());  // takes a reference on the SSL_CTX
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  BIO* network = attach_bio_pair(ssl);
  if (!network) {
    SSL_free(ssl);
    return nullptr;
  }
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!host.empty() && !set_client_host(ssl, std::string(host).c_str())) {
      BIO_free(network);
      SSL_free(ssl);
      return nullptr;
    }
  }
  auto* e = new (std::nothrow) TlsEngine(ssl, network);
  if (!e) {
    BIO_free(network);
    SSL_free(ssl);
    return nullptr;
  }
  return std::unique_ptr<TlsEngine>(e);
}

BIO* TlsEngine::attach_bio_pair(SSL* ssl) noexcept {
  BIO* internal = nullptr;
  BIO* network = nullptr;
  // bio1 (internal) buffers what SSL writes: the ciphertext for the socket;
  // bio2 (network) buffers what we write: the ciphertext from the socket.
  if (BIO_new_bio_pair(&internal, kTlsOutputBuffer, &network, kTlsInputBuffer) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_bio(ssl, internal, internal);  // one reference, used for both directions
  return network;
}

bool TlsEngine::release_buffers() noexcept {
  if (!network_) return true;
  if (unfinished_record_ || pending_output() || BIO_ctrl_wpending(network_) != 0) return false;
  SSL_set_bio(ssl_, nullptr, nullptr);  // frees SSL's end of the pair
  BIO_free(network_);
  network_ = nullptr;
  // Freed below the connections accepted since: glibc keeps those pages until a trim.
  (void)note_heap_release(kTlsOutputBuffer + kTlsInputBuffer, monotonic_ms());
  return true;
}

bool TlsEngine::ensure_bio() noexcept {
  if (network_) return true;
  network_ = attach_bio_pair(ssl_);
  if (network_) return true;
  failed_ = true;
  error_ = "out of memory";
  return false;
}

TlsEngine::~TlsEngine() {
  BIO_free(network_);
  SSL_free(ssl_);  // frees the internal BIO and drops the SSL_CTX reference
}

std::span<std::byte> TlsEngine::staging() noexcept {
  // One per thread: SSL_write copies the plaintext into its record before returning.
  thread_local std::array<std::byte, kTlsRecordPlaintext> buf;
  return buf;
}

std::span<std::byte> TlsEngine::input_space() noexcept {
  if (!ensure_bio()) return {};
  char* p = nullptr;
  int n = BIO_nwrite0(network_, &p);
  if (n <= 0) {
    ERR_clear_error();  // a full buffer is reported as an error by the BIO
    return {};
  }
  return {reinterpret_cast<std::byte*>(p), size_t(n)};
}

void TlsEngine::commit_input(size_t n) noexcept {
  if (n == 0) return;
  RELAY_ASSERT(n <= INT_MAX);
  int done = BIO_nwrite(network_, nullptr, int(n));
  RELAY_ASSERT(done == int(n));
}

std::span<const std::byte> TlsEngine::output() noexcept {
  if (!network_) return {};
  char* p = nullptr;
  long n = BIO_nread0(network_, &p);
  if (n <= 0) {
    ERR_clear_error();
    return {};
  }
  return {reinterpret_cast<const std::byte*>(p), size_t(n)};
}

void TlsEngine::consume_output(size_t n) noexcept {
  if (n == 0) return;
  RELAY_ASSERT(n <= INT_MAX);
  int done = BIO_nread(network_, nullptr, int(n));
  RELAY_ASSERT(done == int(n));
}

size_t TlsEngine::pending_output() const noexcept {
  return network_ ? BIO_ctrl_pending(network_) : 0;
}

bool TlsEngine::has_room_for(size_t plaintext) const noexcept {
  return BIO_ctrl_get_write_guarantee(SSL_get_wbio(ssl_)) >= plaintext + kRecordOverhead;
}

TlsStatus TlsEngine::classify(int ret) noexcept {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::kWantInput;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::kWantOutput;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return TlsStatus::kClosed;
    default:  // SSL_ERROR_SSL, SSL_ERROR_SYSCALL: the connection is unusable
      failed_ = true;
      error_ = take_error("unexpected end of the TLS stream");
      return TlsStatus::kFailed;
  }
}

TlsIo TlsEngine::handshake() noexcept {
  if (failed_ || !ensure_bio()) return {TlsStatus::kFailed, 0};
  if (established_) return {TlsStatus::kOk, 0};
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc != 1) return {classify(rc), 0};
  established_ = true;
  return {TlsStatus::kOk, 0};
}

TlsIo TlsEngine::read(std::span<std::byte> out) noexcept {
  if (TlsIo h = handshake(); h.status != TlsStatus::kOk) return h;
  if (out.empty()) return {TlsStatus::kOk, 0};
  size_t n = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_, out.data(), out.size(), &n) == 1) return {TlsStatus::kOk, n};
  return {classify(0), 0};
}

TlsIo TlsEngine::write_record(const std::byte* in, size_t n) noexcept {
  size_t done = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl_, in, n, &done) == 1) return {TlsStatus::kOk, done};
  TlsStatus s = classify(0);
  // OpenSSL sealed the record and keeps what did not fit; a retry must ask for the same
  // length (SSL_write(3)), from any buffer (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
  if (s == TlsStatus::kWantOutput) unfinished_record_ = n;
  return {s, 0};
}

TlsIo TlsEngine::finish_record() noexcept {
  if (unfinished_record_ == 0) return {TlsStatus::kOk, 0};
  size_t done = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl_, staging().data(), unfinished_record_, &done) == 1) {
    unfinished_record_ = 0;
    return {TlsStatus::kOk, 0};
  }
  return {classify(0), 0};
}

TlsIo TlsEngine::write(std::span<const std::byte> in) noexcept {
  if (TlsIo h = handshake(); h.status != TlsStatus::kOk) return h;
  if (TlsIo p = finish_record(); p.status != TlsStatus::kOk) return p;
  const size_t n = in.size() < kTlsRecordPlaintext ? in.size() : kTlsRecordPlaintext;
  if (n == 0) return {TlsStatus::kOk, 0};
  if (!has_room_for(n)) return {TlsStatus::kWantOutput, 0};
  TlsIo w = write_record(in.data(), n);
  if (w.status == TlsStatus::kWantOutput) return {TlsStatus::kOk, n};  // taken, sealed
  return w;
}

void TlsEngine::shutdown() noexcept {
  if (shutdown_sent_) return;
  shutdown_sent_ = true;
  if (!established_ || failed_ || !ensure_bio()) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);  // 0: close_notify queued; we do not wait for the reply
  ERR_clear_error();
}

std::string_view TlsEngine::version() const noexcept { return SSL_get_version(ssl_); }

}  // namespace relay::net
