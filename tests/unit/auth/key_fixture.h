// SPDX-License-Identifier: MIT
// Test keys made by the openssl CLI in a temporary directory, and tokens signed by
// python3-jwt (Debian's PyJWT), an implementation independent of libjwt.
#pragma once

#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "auth/base64url.h"
#include "auth/key.h"

namespace relay::auth::test {

// Debian's interpreter: python3-jwt is installed for it, not for a pyenv python on PATH.
inline constexpr const char* kPython = "/usr/bin/python3";

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command and returns its stdout without the trailing newline; fails the
// test when it exits non-zero.
inline std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class KeyDir {
 public:
  KeyDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wsrelay-auth-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  ~KeyDir() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // <name>.pem (private) and <name>.pub.pem; algorithm args as for openssl genpkey.
  void genpkey(const std::string& name, const std::string& args) const {
    run("openssl genpkey " + args + " -out " + path(name + ".pem") + " 2>/dev/null");
    run("openssl pkey -in " + path(name + ".pem") + " -pubout -out " + path(name + ".pub.pem"));
  }
  void make_rsa(const std::string& name) const {
    genpkey(name, "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
  }
  void make_ec(const std::string& name, const std::string& curve) const {
    genpkey(name, "-algorithm EC -pkeyopt ec_paramgen_curve:" + curve);
  }

  std::string pem(const std::string& name) const { return read_text(path(name + ".pem")); }
  std::string pub(const std::string& name) const { return read_text(path(name + ".pub.pem")); }

 private:
  std::string dir_;
};

// A token signed by PyJWT. key_file "-" signs with alg "none".
inline std::string pyjwt_sign(const std::string& key_file, const std::string& alg,
                              const std::string& claims, const std::string& headers = "{}") {
  return run(std::string(kPython) + " " + PYJWT_SIGN + " " + quote(key_file) + " " + alg + " " +
             quote(claims) + " " + quote(headers));
}

// An HS256 token made by hand with OpenSSL's HMAC: signs whatever secret it is given, also
// an RSA public key PEM (the algorithm-confusion attack PyJWT itself refuses to make).
inline std::string hs256_by_hand(const std::string& secret, const std::string& header,
                                 const std::string& claims) {
  std::string input = base64url_encode(header) + "." + base64url_encode(claims);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + base64url_encode(std::span<const unsigned char>(mac, len));
}

inline Key must_load(const KeySpec& spec) {
  std::string error;
  auto key = load_key(spec, nullptr, &error);
  EXPECT_TRUE(key.has_value()) << error;
  return key.value_or(Key{});
}

}  // namespace relay::auth::test
