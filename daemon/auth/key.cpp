// SPDX-License-Identifier: MIT
#include "auth/key.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <fstream>
#include <memory>
#include <sstream>

namespace relay::auth {
namespace {

struct AlgName {
  Alg alg;
  std::string_view name;
};
constexpr std::array<AlgName, 8> kAlgs{{{Alg::kHS256, "HS256"},
                                        {Alg::kHS384, "HS384"},
                                        {Alg::kHS512, "HS512"},
                                        {Alg::kRS256, "RS256"},
                                        {Alg::kRS384, "RS384"},
                                        {Alg::kRS512, "RS512"},
                                        {Alg::kES256, "ES256"},
                                        {Alg::kES384, "ES384"}}};

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::optional<std::string> read_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read key file " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A secret from a file loses its trailing newline (echo > file, systemd-creds).
std::string without_trailing_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Parses a public or private PEM; private = true when it was a private key.
PkeyPtr parse_pem(const std::string& pem, bool* is_private) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  *is_private = false;
  if (key) return key;
  bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  *is_private = key != nullptr;
  return key;
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool key_fits_alg(EVP_PKEY* key, Alg alg) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kRS384:
    case Alg::kRS512:
      return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
    case Alg::kES256:
    case Alg::kES384: {
      if (!EVP_PKEY_is_a(key, "EC")) return false;
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) != 1)
        return false;
      std::string_view want = alg == Alg::kES256 ? "prime256v1" : "secp384r1";
      return std::string_view(group, len) == want;
    }
    default:
      return false;
  }
}

}  // namespace

std::optional<Alg> alg_from_name(std::string_view name) noexcept {
  for (const auto& a : kAlgs)
    if (a.name == name) return a.alg;
  return std::nullopt;
}

std::string_view alg_name(Alg alg) noexcept {
  for (const auto& a : kAlgs)
    if (a.alg == alg) return a.name;
  return "?";
}

bool is_hmac(Alg alg) noexcept {
  return alg == Alg::kHS256 || alg == Alg::kHS384 || alg == Alg::kHS512;
}

std::optional<std::string> resolve_key_file(std::string_view file, const char* credentials_dir,
                                            std::string* error) {
  constexpr std::string_view kPrefix = "credential:";
  if (!file.starts_with(kPrefix)) return std::string(file);
  std::string_view name = file.substr(kPrefix.size());
  if (name.empty() || name.find('/') != std::string_view::npos || name == "." || name == "..") {
    *error = "bad credential name in '" + std::string(file) + "'";
    return std::nullopt;
  }
  if (credentials_dir == nullptr || *credentials_dir == '\0') {
    *error = "'" + std::string(file) + "' needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)";
    return std::nullopt;
  }
  return std::string(credentials_dir) + "/" + std::string(name);
}

std::optional<Key> load_key(const KeySpec& spec, const char* credentials_dir, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  auto alg = alg_from_name(spec.alg);
  if (!alg) {
    *error = "key '" + spec.kid + "': unsupported alg '" + spec.alg + "'";
    return std::nullopt;
  }
  Key key;
  key.kid = spec.kid;
  key.alg = *alg;
  std::string material = is_hmac(*alg) ? spec.secret : spec.pem;
  int sources = !spec.secret.empty() + !spec.pem.empty() + !spec.file.empty();
  if (sources != 1 || (!spec.secret.empty() && !is_hmac(*alg)) ||
      (!spec.pem.empty() && is_hmac(*alg))) {
    *error = "key '" + spec.kid + "': give exactly one of " +
             (is_hmac(*alg) ? "secret or file" : "pem or file");
    return std::nullopt;
  }
  if (!spec.file.empty()) {
    auto path = resolve_key_file(spec.file, credentials_dir, error);
    if (!path) return std::nullopt;
    auto text = read_file(*path, error);
    if (!text) return std::nullopt;
    material = std::move(*text);
  }
  if (is_hmac(*alg)) {
    key.secret = without_trailing_newlines(std::move(material));
    if (key.secret.size() < kMinHmacSecret) {
      *error = "key '" + spec.kid + "': an HMAC secret needs at least 32 bytes";
      return std::nullopt;
    }
    return key;
  }
  bool is_private = false;
  PkeyPtr pkey = parse_pem(material, &is_private);
  if (!pkey) {
    *error = "key '" + spec.kid + "': not a PEM public or private key";
    return std::nullopt;
  }
  if (!key_fits_alg(pkey.get(), *alg)) {
    *error = "key '" + spec.kid + "': the key type does not fit " + spec.alg;
    return std::nullopt;
  }
  key.public_pem = public_pem_of(pkey.get());
  if (is_private) key.private_pem = std::move(material);
  return key;
}

}  // namespace relay::auth
