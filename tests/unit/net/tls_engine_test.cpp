// SPDX-License-Identifier: MIT
// TlsEngine against a plain OpenSSL client over memory BIOs (no sockets): handshake with
// TLS 1.3 and 1.2, ALPN, byte-exact data both ways with ciphertext moved whole, in small
// chunks and one byte at a time, the 16 KiB gathering of queued frames, a full output
// buffer, garbage instead of a ClientHello, close_notify, and TlsContext's errors.
// Certificates are made here with the OpenSSL API in a temporary directory.
#include "net/tls_engine.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace relay::net {
namespace {

// The ALPN protocol a connection negotiated ("" = none).
std::string alpn_of(SSL* ssl) {
  const unsigned char* p = nullptr;
  unsigned n = 0;
  SSL_get0_alpn_selected(ssl, &p, &n);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

namespace fs = std::filesystem;

// ---- certificates -------------------------------------------------------------------------

struct KeyCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyCert() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A P-256 key and a certificate for it, signed by `issuer` (self-signed when null).
void make_cert(KeyCert* out, const char* cn, long serial, const KeyCert* issuer, bool ca) {
  out->key = EVP_EC_gen("P-256");
  ASSERT_NE(out->key, nullptr);
  X509* x = X509_new();
  out->cert = x;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, out->key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer ? issuer->cert : x;
  X509_set_issuer_name(x, X509_get_subject_name(signer));
  if (ca) {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    add_ext(x, signer, NID_ext_key_usage, "serverAuth");
  }
  ASSERT_GT(X509_sign(x, issuer ? issuer->key : out->key, EVP_sha256()), 0);
}

void write_pem(const fs::path& path, X509* cert, EVP_PKEY* key) {
  BIO* b = BIO_new_file(path.c_str(), "w");
  ASSERT_NE(b, nullptr);
  if (cert) PEM_write_bio_X509(b, cert);
  if (key) PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO_free(b);
}

// One CA and two server certificates (serials 2 and 3) for localhost / 127.0.0.1.
class TlsFiles {
 public:
  TlsFiles() {
    char tmpl[] = "/tmp/tls-engine-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    make_cert(&ca_, "wsrelay test CA", 1, nullptr, true);
    make_cert(&server_, "localhost", 2, &ca_, false);
    make_cert(&other_, "localhost", 3, &ca_, false);
    write_pem(ca_path(), ca_.cert, nullptr);
    write_pem(cert_path(), server_.cert, nullptr);
    write_pem(key_path(), nullptr, server_.key);
    write_pem(dir_ / "other.crt", other_.cert, nullptr);
    write_pem(dir_ / "other.key", nullptr, other_.key);
  }
  ~TlsFiles() { fs::remove_all(dir_); }
  fs::path dir() const { return dir_; }
  std::string ca_path() const { return dir_ / "ca.crt"; }
  std::string cert_path() const { return dir_ / "server.crt"; }
  std::string key_path() const { return dir_ / "server.key"; }
  std::string other_cert() const { return dir_ / "other.crt"; }
  std::string other_key() const { return dir_ / "other.key"; }

 private:
  fs::path dir_;
  KeyCert ca_, server_, other_;
};

TlsFiles& files() {
  static TlsFiles* f = new TlsFiles;  // one set for the whole binary
  return *f;
}

std::unique_ptr<TlsContext> server_context() {
  TlsContextError err;
  auto ctx = TlsContext::create_server(files().cert_path(), files().key_path(), &err);
  EXPECT_NE(ctx, nullptr) << err.message;
  return ctx;
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + seed * 7 + (i >> 8)) & 0xff);
  return s;
}

// ---- an OpenSSL client and the engine, connected through memory ----------------------------

struct ClientOptions {
  int max_version = TLS1_3_VERSION;
  int min_version = TLS1_2_VERSION;
  std::vector<unsigned char> alpn = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  const char* host = "localhost";
};

class Pair {
 public:
  explicit Pair(const TlsContext& server_ctx, ClientOptions o = {}) {
    engine_ = TlsEngine::create(server_ctx, TlsEngine::Role::kServer);
    cctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx_, o.min_version);
    SSL_CTX_set_max_proto_version(cctx_, o.max_version);
    SSL_CTX_set_verify(cctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_locations(cctx_, files().ca_path().c_str(), nullptr);
    if (!o.alpn.empty()) SSL_CTX_set_alpn_protos(cctx_, o.alpn.data(), unsigned(o.alpn.size()));
    client_ = SSL_new(cctx_);
    SSL_set_tlsext_host_name(client_, o.host);
    SSL_set1_host(client_, o.host);
    from_server_ = BIO_new(BIO_s_mem());
    to_server_ = BIO_new(BIO_s_mem());
    SSL_set_bio(client_, from_server_, to_server_);
    SSL_set_connect_state(client_);
  }
  ~Pair() {
    SSL_free(client_);
    SSL_CTX_free(cctx_);
  }

  TlsEngine& engine() { return *engine_; }
  SSL* client() { return client_; }

  // Moves ciphertext both ways, `chunk` bytes at a time, running both sides, until
  // nothing moves. Decrypted bytes collect in server_got / client_got.
  void run(size_t chunk = SIZE_MAX) {
    for (int round = 0; round < 200000; ++round) {
      bool moved = client_step();
      moved |= to_engine(chunk);
      moved |= engine_step();
      moved |= to_client(chunk);
      if (!moved) return;
    }
    FAIL() << "no quiescence";
  }

  bool client_write(const std::string& data) {
    size_t done = 0;
    return SSL_write_ex(client_, data.data(), data.size(), &done) == 1 && done == data.size();
  }

  std::string server_got, client_got;
  TlsStatus last_engine = TlsStatus::kOk;
  int client_error = 0;  // SSL_get_error of the client's last failure (not WANT_*)
  bool client_closed = false;

 private:
  bool client_step() {
    bool moved = false;
    if (!SSL_is_init_finished(client_)) {
      int rc = SSL_do_handshake(client_);
      if (rc != 1) {
        int e = SSL_get_error(client_, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) client_error = e;
        ERR_clear_error();
        return false;
      }
      moved = true;
    }
    char buf[4096];
    size_t n = 0;
    while (SSL_read_ex(client_, buf, sizeof buf, &n) == 1) {
      client_got.append(buf, n);
      moved = true;
    }
    int e = SSL_get_error(client_, 0);
    if (e == SSL_ERROR_ZERO_RETURN)
      client_closed = true;
    else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
      client_error = e;
    ERR_clear_error();
    return moved;
  }

  bool engine_step() {
    bool moved = false;
    for (int i = 0; i < 100000; ++i) {
      std::byte buf[1000];
      TlsIo r = engine_->read(buf);
      last_engine = r.status;
      if (r.status != TlsStatus::kOk) break;
      if (r.bytes == 0) break;
      server_got.append(reinterpret_cast<const char*>(buf), r.bytes);
      moved = true;
    }
    return moved;
  }

  bool to_engine(size_t chunk) {
    bool moved = false;
    while (BIO_ctrl_pending(to_server_) > 0) {
      std::span<std::byte> space = engine_->input_space();
      if (space.empty()) {
        if (!engine_step()) break;  // the engine must decrypt before it takes more
        continue;
      }
      size_t n = std::min({space.size(), chunk, size_t(BIO_ctrl_pending(to_server_))});
      size_t got = 0;
      EXPECT_EQ(BIO_read_ex(to_server_, space.data(), n, &got), 1);
      engine_->commit_input(got);
      moved = true;
      if (chunk < 16) engine_step();  // feed tiny pieces one by one to the engine
    }
    return moved;
  }

  bool to_client(size_t chunk) {
    bool moved = false;
    while (engine_->has_pending_output()) {
      std::span<const std::byte> out = engine_->output();
      EXPECT_FALSE(out.empty());
      size_t n = std::min(out.size(), chunk);
      EXPECT_EQ(BIO_write(from_server_, out.data(), int(n)), int(n));
      engine_->consume_output(n);
      moved = true;
      if (chunk < 16) client_step();
    }
    return moved;
  }

  std::unique_ptr<TlsEngine> engine_;
  SSL_CTX* cctx_ = nullptr;
  SSL* client_ = nullptr;
  BIO* from_server_ = nullptr;  // the client's read BIO
  BIO* to_server_ = nullptr;    // the client's write BIO
};

// Drains the engine's output into `sink` (all of it, across the ring's wrap).
std::string take_output(TlsEngine& e) {
  std::string sink;
  while (e.has_pending_output()) {
    auto out = e.output();
    sink.append(reinterpret_cast<const char*>(out.data()), out.size());
    e.consume_output(out.size());
  }
  return sink;
}

// The TLS record lengths in a ciphertext stream (RFC 8446 §5.1: type, version, length).
std::vector<size_t> record_lengths(const std::string& s) {
  std::vector<size_t> out;
  size_t i = 0;
  while (i + 5 <= s.size()) {
    size_t len = (size_t(uint8_t(s[i + 3])) << 8) | uint8_t(s[i + 4]);
    out.push_back(len);
    i += 5 + len;
  }
  EXPECT_EQ(i, s.size()) << "ciphertext ends inside a record";
  return out;
}

// ---- tests ---------------------------------------------------------------------------------

TEST(TlsEngine, HandshakeTls13WithAlpn) {
  auto ctx = server_context();
  Pair p(*ctx);
  EXPECT_FALSE(p.engine().is_established());
  p.run();
  ASSERT_TRUE(p.engine().is_established()) << p.engine().error();
  EXPECT_TRUE(SSL_is_init_finished(p.client()));
  EXPECT_EQ(p.engine().version(), "TLSv1.3");
  EXPECT_EQ(alpn_of(p.engine().native()), "http/1.1");
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(p.client(), &alpn, &alpn_len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "http/1.1");
  EXPECT_EQ(SSL_get_verify_result(p.client()), X509_V_OK);
}

TEST(TlsEngine, HandshakeTls12) {
  auto ctx = server_context();
  ClientOptions o;
  o.max_version = TLS1_2_VERSION;
  Pair p(*ctx, o);
  p.run();
  ASSERT_TRUE(p.engine().is_established()) << p.engine().error();
  EXPECT_EQ(p.engine().version(), "TLSv1.2");
  EXPECT_EQ(alpn_of(p.engine().native()), "http/1.1");
}

TEST(TlsEngine, RefusesTls11) {
  auto ctx = server_context();
  ClientOptions o;
  o.min_version = TLS1_VERSION;
  o.max_version = TLS1_1_VERSION;
  SSL_CTX* probe = SSL_CTX_new(TLS_client_method());
  // Debian's default security level may already forbid TLS 1.1 in the client itself.
  bool client_can = SSL_CTX_set_max_proto_version(probe, TLS1_1_VERSION) == 1;
  SSL_CTX_free(probe);
  if (!client_can) GTEST_SKIP() << "this OpenSSL cannot speak TLS 1.1";
  Pair p(*ctx, o);
  p.run();
  EXPECT_FALSE(p.engine().is_established());
  EXPECT_FALSE(SSL_is_init_finished(p.client()));
}

TEST(TlsEngine, NoAlpnIsAcceptedAndUnknownAlpnRefused) {
  auto ctx = server_context();
  ClientOptions none;
  none.alpn.clear();
  Pair a(*ctx, none);
  a.run();
  ASSERT_TRUE(a.engine().is_established());
  EXPECT_EQ(alpn_of(a.engine().native()), "");

  ClientOptions h2;
  h2.alpn = {2, 'h', '2'};
  Pair b(*ctx, h2);
  b.run();
  EXPECT_FALSE(b.engine().is_established());
  EXPECT_EQ(b.last_engine, TlsStatus::kFailed);
  EXPECT_TRUE(b.engine().has_failed());
  EXPECT_NE(b.client_error, 0);  // the client got the no_application_protocol alert
}

TEST(TlsEngine, DataBothWaysWholeChunkedAndByteByByte) {
  auto ctx = server_context();
  for (size_t chunk : {SIZE_MAX, size_t(1000), size_t(7), size_t(1)}) {
    SCOPED_TRACE(chunk);
    Pair p(*ctx);
    p.run(chunk);
    ASSERT_TRUE(p.engine().is_established()) << p.engine().error();
    const std::string up = pattern(chunk == 1 ? 20000 : 100000, 1);
    ASSERT_TRUE(p.client_write(up));
    p.run(chunk);
    EXPECT_EQ(p.server_got, up);

    const std::string down = pattern(chunk == 1 ? 30000 : 150000, 2);
    size_t off = 0;
    for (int i = 0; i < 1000 && off < down.size(); ++i) {
      TlsIo w = p.engine().write(as_bytes(down).subspan(off));
      ASSERT_NE(w.status, TlsStatus::kFailed);
      off += w.bytes;
      p.run(chunk);
    }
    EXPECT_EQ(off, down.size());
    EXPECT_EQ(p.client_got, down);
  }
}

TEST(TlsEngine, WriteQueueGathersFramesIntoOneRecord) {
  auto ctx = server_context();
  Pair p(*ctx);
  p.run();
  ASSERT_TRUE(p.engine().is_established());
  ASSERT_FALSE(p.engine().has_pending_output());
  OutQueue q;
  std::string expect;
  for (int i = 0; i < 1000; ++i) {  // 1000 frames of 10 bytes: one record, not 1000
    std::string f = pattern(10, unsigned(i));
    expect += f;
    q.push(FrameRef::copy_of(as_bytes(f)));
  }
  size_t sent = 0;
  TlsIo r = p.engine().write_queue(q, [&](const FrameRef&) { ++sent; });
  EXPECT_EQ(r.status, TlsStatus::kOk);
  EXPECT_EQ(r.bytes, expect.size());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(sent, 1000u);
  std::string cipher = take_output(p.engine());
  std::vector<size_t> records = record_lengths(cipher);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_GT(records[0], expect.size());  // plaintext + content type + AEAD tag
  EXPECT_LT(records[0], expect.size() + 64);
  ASSERT_EQ(BIO_write(SSL_get_rbio(p.client()), cipher.data(), int(cipher.size())),
            int(cipher.size()));
  p.run();
  EXPECT_EQ(p.client_got, expect);
}

TEST(TlsEngine, FullOutputKeepsPlaintextQueued) {
  auto ctx = server_context();
  Pair p(*ctx);
  p.run();
  ASSERT_TRUE(p.engine().is_established());
  OutQueue q;
  std::string expect;
  for (int i = 0; i < 40; ++i) {  // 40 frames of 5000 bytes = 200 kB
    std::string f = pattern(5000, unsigned(i));
    expect += f;
    q.push(FrameRef::copy_of(as_bytes(f)));
  }
  TlsIo r = p.engine().write_queue(q, [](const FrameRef&) {});
  // One 16 KiB record fits; the rest waits in the queue, where the slow-consumer limits see it.
  EXPECT_EQ(r.status, TlsStatus::kWantOutput);
  EXPECT_EQ(r.bytes, kTlsRecordPlaintext);
  EXPECT_EQ(q.bytes(), expect.size() - kTlsRecordPlaintext);
  EXPECT_LE(p.engine().pending_output(), kTlsOutputBuffer);
  EXPECT_EQ(p.engine().write_queue(q, [](const FrameRef&) {}).status, TlsStatus::kWantOutput);
  for (int i = 0; i < 100 && !q.empty(); ++i) {
    p.run();  // the socket takes the ciphertext
    r = p.engine().write_queue(q, [](const FrameRef&) {});
    ASSERT_NE(r.status, TlsStatus::kFailed);
  }
  p.run();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(p.client_got, expect);
}

TEST(TlsEngine, NothingIsWrittenBeforeTheHandshake) {
  auto ctx = server_context();
  auto e = TlsEngine::create(*ctx, TlsEngine::Role::kServer);
  OutQueue q;
  q.push(FrameRef::copy_of(as_bytes(std::string("HTTP/1.1 408 Request Timeout\r\n\r\n"))));
  EXPECT_EQ(e->write_queue(q, [](const FrameRef&) {}).status, TlsStatus::kWantInput);
  EXPECT_EQ(q.frames(), 1u);
  EXPECT_FALSE(e->has_pending_output());
}

TEST(TlsEngine, GarbageInsteadOfClientHelloFails) {
  auto ctx = server_context();
  for (std::string garbage : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), pattern(300, 9),
                              std::string("\x16\x03\x01\x00\x05hello", 10)}) {
    auto e = TlsEngine::create(*ctx, TlsEngine::Role::kServer);
    auto space = e->input_space();
    ASSERT_GE(space.size(), garbage.size());
    std::memcpy(space.data(), garbage.data(), garbage.size());
    e->commit_input(garbage.size());
    std::byte buf[100];
    TlsIo r = e->read(buf);
    EXPECT_EQ(r.status, TlsStatus::kFailed);
    EXPECT_TRUE(e->has_failed());
    EXPECT_FALSE(e->is_established());
    EXPECT_FALSE(e->error().empty());
    EXPECT_EQ(e->read(buf).status, TlsStatus::kFailed);  // stays failed
    EXPECT_EQ(ERR_peek_error(), 0u) << "the thread's error queue must be left empty";
  }
}

TEST(TlsEngine, PlainHttpIsNamed) {
  auto ctx = server_context();
  auto e = TlsEngine::create(*ctx, TlsEngine::Role::kServer);
  std::string req = "GET /channels/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  auto space = e->input_space();
  std::memcpy(space.data(), req.data(), req.size());
  e->commit_input(req.size());
  std::byte buf[16];
  EXPECT_EQ(e->read(buf).status, TlsStatus::kFailed);
  EXPECT_NE(e->error().find("http request"), std::string::npos) << e->error();
}

TEST(TlsEngine, CloseNotifyBothWays) {
  auto ctx = server_context();
  Pair a(*ctx);
  a.run();
  ASSERT_TRUE(a.engine().is_established());
  EXPECT_EQ(SSL_shutdown(a.client()), 0);  // the client's close_notify
  a.run();
  EXPECT_EQ(a.last_engine, TlsStatus::kClosed);

  Pair b(*ctx);
  b.run();
  b.engine().shutdown();
  EXPECT_TRUE(b.engine().shutdown_sent());
  EXPECT_TRUE(b.engine().has_pending_output());
  b.run();
  EXPECT_TRUE(b.client_closed);
}

TEST(TlsEngine, IdleBuffersAreReleasedAndComeBack) {
  auto ctx = server_context();
  Pair p(*ctx);
  p.run();
  ASSERT_TRUE(p.engine().is_established());
  EXPECT_TRUE(p.engine().release_buffers());  // idle: nothing buffered either way
  for (int round = 0; round < 3; ++round) {
    std::string up = pattern(40000, unsigned(round));
    ASSERT_TRUE(p.client_write(up));
    p.run();
    EXPECT_EQ(p.server_got, up);
    p.server_got.clear();
    EXPECT_TRUE(p.engine().release_buffers());
    std::string down = pattern(20000, unsigned(round) + 10);
    size_t off = 0;
    for (int i = 0; i < 10 && off < down.size(); ++i) {
      TlsIo w = p.engine().write(as_bytes(down).subspan(off));
      off += w.bytes;
      if (i == 0) {
        EXPECT_FALSE(p.engine().release_buffers());  // ciphertext waits: kept
      }
      p.run();
    }
    EXPECT_EQ(p.client_got, down);
    p.client_got.clear();
    EXPECT_TRUE(p.engine().release_buffers());
  }
  // Ciphertext from the client that the engine has not decrypted yet: kept too.
  ASSERT_TRUE(p.client_write("pending"));
  std::string cipher;
  char buf[4096];
  for (int n; (n = BIO_read(SSL_get_wbio(p.client()), buf, sizeof buf)) > 0;)
    cipher.append(buf, size_t(n));
  auto space = p.engine().input_space();
  std::memcpy(space.data(), cipher.data(), cipher.size());
  p.engine().commit_input(cipher.size());
  EXPECT_FALSE(p.engine().release_buffers());
  p.run();
  EXPECT_EQ(p.server_got, "pending");
}

TEST(TlsEngine, OpenConnectionKeepsItsContextWhenReplaced) {
  auto old_ctx = server_context();
  Pair p(*old_ctx);
  old_ctx.reset();  // a reload replaced it: the engine holds its own reference
  p.run();
  ASSERT_TRUE(p.engine().is_established());
  ASSERT_TRUE(p.client_write("still here"));
  p.run();
  EXPECT_EQ(p.server_got, "still here");
  X509* peer = SSL_get1_peer_certificate(p.client());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(peer)), 2);
  X509_free(peer);
}

TEST(TlsEngine, EngineAsClientVerifiesTheServerName) {
  auto sctx = server_context();
  TlsContextError err;
  auto cctx = TlsContext::create_client(files().ca_path(), &err);
  ASSERT_NE(cctx, nullptr) << err.message;
  auto connect = [&](const char* host) {
    auto s = TlsEngine::create(*sctx, TlsEngine::Role::kServer);
    auto c = TlsEngine::create(*cctx, TlsEngine::Role::kClient, host);
    EXPECT_EQ(c->handshake().status, TlsStatus::kWantInput);
    for (int i = 0; i < 20; ++i) {
      auto move = [](TlsEngine& from, TlsEngine& to) {
        while (from.has_pending_output()) {
          auto out = from.output();
          auto in = to.input_space();
          size_t n = std::min(out.size(), in.size());
          if (n == 0) break;
          std::memcpy(in.data(), out.data(), n);
          to.commit_input(n);
          from.consume_output(n);
        }
      };
      move(*c, *s);
      std::byte buf[64];
      (void)s->read(buf);
      move(*s, *c);
      (void)c->read(buf);
    }
    return c->is_established() && s->is_established();
  };
  EXPECT_TRUE(connect("localhost"));
  EXPECT_TRUE(connect("127.0.0.1"));
  EXPECT_FALSE(connect("example.org"));  // not in the certificate
}

TEST(TlsContext, ErrorsNameTheFile) {
  TlsContextError err;
  EXPECT_EQ(TlsContext::create_server("/nonexistent/cert.pem", files().key_path(), &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kCert);
  EXPECT_NE(err.message.find("/nonexistent/cert.pem"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("No such file"), std::string::npos) << err.message;

  EXPECT_EQ(TlsContext::create_server(files().cert_path(), "/nonexistent/key.pem", &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kKey);

  fs::path junk = files().dir() / "junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  EXPECT_EQ(TlsContext::create_server(junk, files().key_path(), &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kCert);
  EXPECT_EQ(TlsContext::create_server(files().cert_path(), junk, &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kKey);

  // A key that belongs to another certificate.
  EXPECT_EQ(TlsContext::create_server(files().cert_path(), files().other_key(), &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kKey);
  EXPECT_NE(err.message.find("does not match"), std::string::npos) << err.message;

  EXPECT_EQ(TlsContext::create_client("/nonexistent/ca.pem", &err), nullptr);
  EXPECT_EQ(err.file, TlsFile::kCa);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TlsContext, DescribesTheCertificate) {
  TlsContextError err;
  auto ctx = TlsContext::create_server(files().other_cert(), files().other_key(), &err);
  ASSERT_NE(ctx, nullptr) << err.message;
  std::string d = ctx->describe_certificate();
  EXPECT_NE(d.find("CN = localhost"), std::string::npos) << d;
  EXPECT_NE(d.find("serial 03"), std::string::npos) << d;
}

}  // namespace
}  // namespace relay::net
