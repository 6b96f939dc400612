// SPDX-License-Identifier: MIT
// check_config_semantics: what the JSON Schema cannot say. Listen addresses must parse into
// socket addresses, TLS files must be readable PEM with a key that fits the certificate, and
// allowed origins must be serialized the way browsers send them (RFC 6454 §6.1).
// Touches the file system (TLS files) but never binds or connects anything.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "access.h"
#include "auth_runtime.h"
#include "config.h"
#include "listen_address.h"
#include "net/socket.h"
#include "net/tls_engine.h"

namespace relay::daemon {
namespace {

std::optional<ConfigError> check_address(const std::string& text, const char* pointer) {
  if (auto why = listen_address_problem(text)) return ConfigError{pointer, *why};
  return std::nullopt;
}

bool is_any_address(const net::SocketAddress& a) {
  const std::string s = a.to_string();
  return s.rfind("0.0.0.0:", 0) == 0 || s.rfind("[::]:", 0) == 0;
}

// Both listeners on one port can only work if they are on different specific addresses.
bool same_port_clash(const std::string& public_text, const std::string& metrics_text) {
  const auto pub = net::parse_address(public_text);
  const auto met = net::parse_address(metrics_text);
  if (!pub || !met || pub->port() == 0 || pub->port() != met->port()) return false;
  return pub->to_string() == met->to_string() || is_any_address(*pub) || is_any_address(*met);
}

// Never prompt on a terminal for an encrypted key: refuse it instead.
int no_passphrase(char*, int, int, void*) { return -1; }

std::optional<ConfigError> check_readable(const std::string& path, const char* pointer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ConfigError{pointer, "cannot read " + path + ": " + std::strerror(errno)};
  ::close(fd);
  return std::nullopt;
}

std::optional<ConfigError> check_tls(const TlsConfig& tls) {
  if (auto e = check_readable(tls.cert, "/tls/cert")) return e;
  if (auto e = check_readable(tls.key, "/tls/key")) return e;
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
  Bio cert_bio(BIO_new_file(tls.cert.c_str(), "r"), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr) : nullptr,
      &X509_free);
  if (!cert) {
    ERR_clear_error();
    return ConfigError{"/tls/cert", tls.cert + " holds no PEM certificate"};
  }
  Bio key_bio(BIO_new_file(tls.key.c_str(), "r"), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr) : nullptr,
      &EVP_PKEY_free);
  if (!key) {
    ERR_clear_error();
    return ConfigError{"/tls/key", tls.key + " holds no unencrypted PEM private key"};
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return ConfigError{"/tls/key", "the key does not match the certificate in /tls/cert"};
  }
  // The context the server will build, so --check-config also refuses what OpenSSL's
  // security level refuses (a 1024-bit RSA key: "ee key too small").
  net::TlsContextError err;
  if (!net::TlsContext::create_server(tls.cert, tls.key, &err))
    return ConfigError{err.file == net::TlsFile::kKey ? "/tls/key" : "/tls/cert", err.message};
  return std::nullopt;
}

// What a good entry looks like, appended to every origin complaint.
constexpr const char* kOriginForm =
    "must be \"*\" or scheme://host[:port] with no path, like https://example.com:8443";

// Origin serialization: scheme "://" host [ ":" port ], lowercase, no path, and no port when it
// is the scheme's default (a browser never sends "https://a.example:443", so it would never match).
std::optional<std::string> origin_problem(const std::string& o) {
  if (o == "*") return std::nullopt;
  if (o == "null") return "\"null\" is never allowed (sandboxed frames and file:// pages send it)";
  const size_t sep = o.find("://");
  if (sep == std::string::npos || sep == 0) return std::string(kOriginForm);
  const std::string scheme = o.substr(0, sep);
  std::string rest = o.substr(sep + 3);
  std::string host = rest;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return "unterminated [IPv6] host";
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::string(kOriginForm);
      port = rest.substr(close + 2);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return "the host is empty; " + std::string(kOriginForm);
  if (rest.find_first_of("/?#@ ") != std::string::npos) return std::string(kOriginForm);
  if (rest.find(':') != std::string::npos && port.empty())
    return "the port is empty; " + std::string(kOriginForm);
  if (!port.empty()) {
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n == 0 || n > 65535)
      return "the port must be a number from 1 to 65535; " + std::string(kOriginForm);
    if ((scheme == "http" && n == 80) || (scheme == "https" && n == 443))
      return "drop the default port :" + port + " (browsers omit it from Origin): write " + scheme +
             "://" + host;
  }
  return std::nullopt;
}

// auth: keys that load, kids that tell keys apart, and no channel right that mode "none"
// would silently grant to everyone.
void check_auth(const Config& c, std::vector<ConfigError>* errors) {
  const AuthConfig& a = c.auth;
  if (a.mode == auth::AuthMode::kNone) {
    for (size_t i = 0; i < c.channels.size(); ++i) {
      const auth::ChannelAccess& acc = c.channels[i].access;
      const std::string at = "/channels/" + std::to_string(i) + "/access/";
      if (acc.subscribe != auth::ChannelPolicy::kAnyone)
        errors->push_back({at + "subscribe",
                           "needs auth.mode optional or required (with mode "
                           "none everyone may subscribe)"});
      if (acc.publish != auth::ChannelPolicy::kAnyone)
        errors->push_back({at + "publish",
                           "needs auth.mode optional or required (with mode "
                           "none everyone may publish)"});
    }
  } else if (a.keys.empty()) {
    errors->push_back({"/auth/keys", "auth.mode optional or required needs at least one key"});
  }
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (a.keys.size() > 1 && a.keys[i].kid.empty())
      errors->push_back({"/auth/keys/" + std::to_string(i) + "/kid",
                         "must be set when more than one key is configured"});
    for (size_t j = 0; j < i; ++j)
      if (!a.keys[i].kid.empty() && a.keys[j].kid == a.keys[i].kid)
        errors->push_back({"/auth/keys/" + std::to_string(i) + "/kid",
                           "repeats the kid of /auth/keys/" + std::to_string(j)});
  }
  (void)make_auth_runtime(a, errors);  // loads every key: files, PEM, lengths
}

}  // namespace

std::vector<ConfigError> config_semantic_errors(const Config& c) {
  std::vector<ConfigError> errors;
  auto add = [&errors](std::optional<ConfigError> e) {
    if (e) errors.push_back(std::move(*e));
  };
  add(check_address(c.listen, "/listen"));
  if (!c.metrics_listen.empty()) {
    add(check_address(c.metrics_listen, "/metrics_listen"));
    if (same_port_clash(c.listen, c.metrics_listen))
      add(ConfigError{"/metrics_listen", "must not be the same port as /listen"});
  }
  if (c.tls) add(check_tls(*c.tls));
  if (c.allowed_origins) {
    for (size_t i = 0; i < c.allowed_origins->size(); ++i) {
      if (auto why = origin_problem((*c.allowed_origins)[i]))
        add(ConfigError{"/allowed_origins/" + std::to_string(i), *why});
    }
  }
  if (c.public_origins) {
    for (size_t i = 0; i < c.public_origins->size(); ++i) {
      const std::string& o = (*c.public_origins)[i];
      if (auto why = o == "*" ? std::optional<std::string>("must name one origin, not \"*\"")
                              : origin_problem(o))
        add(ConfigError{"/public_origins/" + std::to_string(i), *why});
    }
  }
  // API keys and the metrics token: their files are read, their lengths checked.
  (void)AccessPolicy::build(c, std::getenv("CREDENTIALS_DIRECTORY"), &errors);
  if (c.limits.queue_soft_bytes > c.limits.max_queue_bytes)
    add(ConfigError{"/limits/queue_soft_bytes", "must be <= /limits/max_queue_bytes"});
  check_auth(c, &errors);
  // The Redis password is read at start: an unreadable file is a start-up error, not a
  // node that cannot AUTH.
  if (c.broker.type == "redis" && !c.broker.password_file.empty() &&
      ::access(c.broker.password_file.c_str(), R_OK) != 0)
    add(ConfigError{"/broker/password_file",
                    "cannot read " + c.broker.password_file + ": " + std::strerror(errno)});
  return errors;
}

std::optional<ConfigError> check_config_semantics(const Config& c) {
  std::vector<ConfigError> errors = config_semantic_errors(c);
  if (errors.empty()) return std::nullopt;
  return std::move(errors.front());
}

}  // namespace relay::daemon
