// SPDX-License-Identifier: MIT
// TLS as a sans-I/O engine, as in helio util/tls/tls_engine.h: OpenSSL runs over a memory
// BIO pair, the caller moves ciphertext between the pair and its socket, and plaintext
// between the engine and its buffers. No syscalls here (no recv, send, poll or clock):
// the reactor decides when bytes move. TlsContext holds the SSL_CTX settings shared by
// every connection (TLS 1.2 and 1.3 only, ALPN "http/1.1", no renegotiation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/out_queue.h"

// OpenSSL's types, declared here so that users of the engine need no OpenSSL headers.
struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace relay::net {

// RFC 8446 §5.1 / RFC 5246 §6.2.1: at most 2^14 plaintext bytes per record. Queued frames
// are gathered into one staging buffer of this size per SSL_write, as uWebSockets' cork
// buffer (src/LoopData.h CORK_BUFFER_SIZE, "Good 16k for SSL perf").
inline constexpr size_t kTlsRecordPlaintext = 16 * 1024;
// Ciphertext the engine holds for the socket at most: one full record and its overhead.
// It is counted with the client's queue (pending_output()).
inline constexpr size_t kTlsOutputBuffer = kTlsRecordPlaintext + 1024;
// Ciphertext accepted from the socket before it is decrypted (input_space()).
inline constexpr size_t kTlsInputBuffer = kTlsRecordPlaintext;

// Which file a context could not use (so the daemon can name /tls/cert or /tls/key).
enum class TlsFile : uint8_t { kNone, kCert, kKey, kCa };

struct TlsContextError {
  TlsFile file = TlsFile::kNone;
  std::string message;  // "cannot load the certificate chain from x.pem: no start line"
};

// An SSL_CTX. Each engine takes its own reference (OpenSSL counts them), so replacing the
// context (a SIGHUP reload of the cert) leaves open connections on the one they started with.
class TlsContext {
 public:
  // A server context: TLS 1.2 and 1.3, certificate chain and private key from PEM files
  // (an encrypted key is refused, never prompted for), ALPN selecting "http/1.1" when the
  // client offers ALPN (no overlap: a no_application_protocol alert, RFC 7301 §3.2),
  // SSL_OP_NO_RENEGOTIATION, session tickets on (OpenSSL's default).
  // Null on failure, with *error naming the file and OpenSSL's reason.
  static std::unique_ptr<TlsContext> create_server(const std::string& cert_path,
                                                   const std::string& key_path,
                                                   TlsContextError* error);
  // A client context: TLS 1.2 and 1.3, peer verification against the PEM file ca_path
  // ("" = the system's default store), ALPN "http/1.1" offered.
  static std::unique_ptr<TlsContext> create_client(const std::string& ca_path,
                                                   TlsContextError* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const noexcept { return ctx_; }
  // "subject CN=..., serial 0A1B..., expires 2026-01-01" of the server certificate ("" if none).
  std::string describe_certificate() const;

 private:
  explicit TlsContext(ssl_ctx_st* ctx) noexcept : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

// Client side of a connection: SNI, and the host name or IP address the server
// certificate must match. False when OpenSSL refuses it (e.g. no memory).
bool set_client_host(ssl_st* ssl, const char* host) noexcept;

enum class TlsStatus : uint8_t {
  kOk,          // progress: bytes moved (see TlsIo::bytes), or the handshake finished
  kWantInput,   // needs more ciphertext from the socket (send output() first if any)
  kWantOutput,  // output is full: send output(), then call again (with or without input)
  kClosed,      // the other side sent close_notify: no more plaintext will come
  kFailed,      // fatal: error() says why; output() may still hold an alert worth sending
};

struct TlsIo {
  TlsStatus status = TlsStatus::kOk;
  size_t bytes = 0;  // plaintext read or written by this call
};

// One TLS connection. Ciphertext flows:
//   socket -> input_space()/commit_input() -> read() -> plaintext
//   plaintext -> write()/write_queue() -> output()/consume_output() -> socket
// read() drives the handshake as well. Any call may produce output (handshake flights,
// alerts, session tickets): after each, send output() if pending_output() is non-zero,
// before waiting for input (BIO_new_bio_pair(3): "the write buffer must always be flushed").
class TlsEngine {
 public:
  enum class Role : uint8_t { kServer, kClient };
  // Null when OpenSSL cannot allocate. `host` (client only): SNI, and the name or IP
  // address the server certificate must match ("" = no name check).
  static std::unique_ptr<TlsEngine> create(const TlsContext& ctx, Role role,
                                           std::string_view host = {});
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  // ---- ciphertext in ----
  // Where the next bytes from the socket go (empty while the input buffer is full: read()
  // first). Valid until the next call on the engine.
  std::span<std::byte> input_space() noexcept;
  void commit_input(size_t n) noexcept;

  // ---- plaintext ----
  // Drives the handshake: kOk once established. A client calls it first (ClientHello);
  // read() calls it too, so a server need not.
  TlsIo handshake() noexcept;
  // Handshake until established, then decrypt into `out` (kOk with bytes > 0 while
  // plaintext is available; kWantInput when it is used up).
  TlsIo read(std::span<std::byte> out) noexcept;
  // Encrypts up to kTlsRecordPlaintext bytes of `in` as one record; kWantOutput (bytes 0)
  // when the output buffer has no room for the record yet; kWantInput before the
  // handshake is done (nothing is taken).
  TlsIo write(std::span<const std::byte> in) noexcept;
  // Gathers frames from the front of q into 16 KiB staging records (one SSL_write each)
  // until q is empty or the output is full, consuming what was encrypted; on_sent(frame)
  // is called for each frame taken whole. Returns kOk or kWantOutput (q not empty), or
  // kFailed. Plaintext stays in q until there is room, so q keeps counting it.
  template <typename OnSent>
  TlsIo write_queue(OutQueue& q, OnSent&& on_sent) noexcept;

  // ---- ciphertext out ----
  // The next contiguous ciphertext for the socket (a second call may return more after
  // consume_output(), as the buffer is a ring).
  std::span<const std::byte> output() noexcept;
  void consume_output(size_t n) noexcept;
  size_t pending_output() const noexcept;
  bool has_pending_output() const noexcept { return pending_output() != 0; }

  // Frees the BIO pair and its buffers (about 33 KiB) when nothing is buffered in either
  // direction, so an idle connection holds no I/O buffers (SSL_MODE_RELEASE_BUFFERS does the
  // same for OpenSSL's record buffers). The next call that moves bytes makes a new pair.
  // False when something is buffered (nothing changes).
  bool release_buffers() noexcept;

  // Queues our close_notify (once); send output() afterwards.
  void shutdown() noexcept;
  bool shutdown_sent() const noexcept { return shutdown_sent_; }

  bool is_established() const noexcept { return established_; }
  bool has_failed() const noexcept { return failed_; }
  // What went wrong (OpenSSL's reason, e.g. "wrong version number", "http request").
  const std::string& error() const noexcept { return error_; }
  // The negotiated version ("TLSv1.3").
  std::string_view version() const noexcept;
  ssl_st* native() const noexcept { return ssl_; }

 private:
  TlsEngine(ssl_st* ssl, bio_st* network) noexcept : ssl_(ssl), network_(network) {}
  // A fresh BIO pair for ssl (both buffers allocated now); returns our end, or null.
  static bio_st* attach_bio_pair(ssl_st* ssl) noexcept;
  // The BIO pair back after release_buffers(); false (and failed) if it cannot be allocated.
  bool ensure_bio() noexcept;
  // Room for one record of `plaintext` bytes in the output buffer.
  bool has_room_for(size_t plaintext) const noexcept;
  // Encrypts `in` (at most one record); the caller checked has_room_for(). kWantOutput
  // only if the record did not fit after all: it is sealed inside OpenSSL (the plaintext
  // is taken) and finish_record() moves the rest once output() has been sent.
  TlsIo write_record(const std::byte* in, size_t n) noexcept;
  // Retries a record that write_record() could not hand over whole; kOk when none is left.
  TlsIo finish_record() noexcept;
  // Maps a failed SSL_* call to a status; records the reason and clears OpenSSL's
  // per-thread error queue (shared by every connection of the thread).
  TlsStatus classify(int ret) noexcept;
  static std::span<std::byte> staging() noexcept;  // one 16 KiB buffer per thread

  ssl_st* ssl_;
  bio_st* network_;  // our end of the BIO pair (null while released); SSL owns the other end
  bool established_ = false;
  bool failed_ = false;
  bool shutdown_sent_ = false;
  size_t unfinished_record_ = 0;  // plaintext length of a record OpenSSL still holds
  std::string error_;
};

template <typename OnSent>
TlsIo TlsEngine::write_queue(OutQueue& q, OnSent&& on_sent) noexcept {
  TlsIo r;
  if (!established_) return {failed_ ? TlsStatus::kFailed : TlsStatus::kWantInput, 0};
  if (!ensure_bio()) return {TlsStatus::kFailed, 0};
  const std::span<std::byte> stage = staging();
  while (!q.empty()) {
    if (TlsIo p = finish_record(); p.status != TlsStatus::kOk) return {p.status, r.bytes};
    if (q.bytes() == 0) {  // only zero-length frames are left
      q.consume(0, on_sent);
      break;
    }
    const size_t want = q.bytes() < stage.size() ? q.bytes() : stage.size();
    if (!has_room_for(want)) return {TlsStatus::kWantOutput, r.bytes};
    // Gather the front of the queue into the staging buffer: many small frames make one
    // record instead of one record each. The room is there, so the record is taken whole
    // and the frames can leave the queue as they are copied.
    size_t staged = 0;
    while (staged < want) {
      iovec iov[64];
      const int n = q.gather(iov, 64);
      size_t copied = 0;
      for (int i = 0; i < n && staged + copied < want; ++i) {
        const size_t take =
            iov[i].iov_len < want - staged - copied ? iov[i].iov_len : want - staged - copied;
        std::memcpy(stage.data() + staged + copied, iov[i].iov_base, take);
        copied += take;
      }
      q.consume(copied, on_sent);
      staged += copied;
    }
    TlsIo w = write_record(stage.data(), staged);
    if (w.status != TlsStatus::kOk && w.status != TlsStatus::kWantOutput)
      return {w.status, r.bytes};
    r.bytes += staged;  // kWantOutput here: sealed in OpenSSL, finish_record() sends the rest
  }
  return r;
}

}  // namespace relay::net
