// SPDX-License-Identifier: MIT
// libFuzzer target: token and claim parsing in daemon/auth (TokenVerifier::verify).
// Input layout: byte 0 picks the mode and options, the rest is the data.
//   bit 0 clear: the data is a token, verified against an HS256 key (kid "hs") and an ES256
//                public key (kid "es") whose private half was thrown away after signing the
//                three kValidEs tokens below.
//   bit 0 set:   the data is a claims payload; the harness signs it with the HS256 key
//                (header {"alg":"HS256","kid":"hs"}), so the claim checks are reached.
//   bit 1: aud "wsrelay" and iss "https://auth.example" are required.
//   bit 2: exp is optional.
// Oracles (abort on violation):
//   - an accepted token is one of kValidEs, or its signature is exactly the HMAC of its
//     signing input under the HS256 secret, recomputed here with OpenSSL (so no token the
//     configured keys did not sign is accepted, in any spelling);
//   - a payload signed by the harness never fails on alg or kid, nor on its signature
//     unless it is JSON that libjwt's parser (jansson) may refuse and nlohmann takes: a
//     NUL escape, a number of 19+ digits, deep nesting (see token_verifier.cpp);
//   - an accepted identity has exp (when required) in the future within the leeway, and
//     only valid channel patterns, at most kMaxPatternsPerClaim of each.
#include <openssl/hmac.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/base64url.h"
#include "auth/rights.h"
#include "auth/token_verifier.h"
#include "fuzz_check.h"

namespace {

using namespace relay::auth;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kLeeway = 5;
const std::string kSecret = "fuzz-secret-0123456789abcdef-0123456789";
const std::string kHeader = R"({"alg":"HS256","kid":"hs"})";

const char* const kEsPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVY7XRgYGBUAe65qQaaFP5zkmzQ6M\n"
    "g8GYwo07gz+smMqtvIxImSCbrbts7hbdau18kREcMElJDty3FhyDkqc0Hg==\n"
    "-----END PUBLIC KEY-----\n";

// Signed by python3-jwt with the discarded private key; the third one has expired.
const char* const kValidEs[] = {
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJhbGljZSIsImp0aSI6ImVzLTEiLCJleHAiOjQxMDI0NDQ4MDAsImNoYW5uZWxzIjp7InN1YnNjcmliZSI6"
    "WyJjaGF0LioiXSwicHVibGlzaCI6WyJjaGF0LmxvYmJ5Il19fQ."
    "qCqp1UCVmOhLXCR39r2tynTZ36HRGpDhPYhBf7mLqazn-_D-2n3ZZWUeqzVE_Wfj0vHofW-GFun3OfRywX1gpQ",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiIiLCJleHAiOjQxMDI0NDQ4MDAsImlhdCI6MTcwMDAwMDAwMCwiYXVkIjoid3NyZWxheSIsImlzcyI6Imh0"
    "dHBzOi8vYXV0aC5leGFtcGxlIn0."
    "wpss4qRFYtgm3n1Mi7JV-Q9q02SMhGKIg5-_3HwFG-Kh8O3I6P4WaOhUR09vy2XUbRbPTc4weNfGLCq5NuczdA",
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVzIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJvbGQiLCJleHAiOjE3MDAwMDAwMDB9."
    "afeml4f20WupCuqt2uFo5IozeLiekEmusd-VGArbUD3IN8sfGSgbk7O70XLkY8NFem2iRsatxFe39_SjHzawrg",
};

std::string hmac_signature(std::string_view signing_input) {
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &len);
  return base64url_encode(std::span<const unsigned char>(mac, len));
}

const TokenVerifier& verifier_for(int options) {
  auto make = [](int o) {
    Key hs{.kid = "hs", .alg = Alg::kHS256, .secret = kSecret};
    Key es{.kid = "es", .alg = Alg::kES256, .public_pem = kEsPublicPem};
    VerifyOptions v{.require_exp = (o & 2) == 0, .leeway_s = kLeeway};
    if (o & 1) {
      v.audiences = {"wsrelay"};
      v.issuer = "https://auth.example";
    }
    return new TokenVerifier({hs, es}, v);
  };
  static const TokenVerifier* verifiers[4] = {make(0), make(1), make(2), make(3)};
  return *verifiers[options & 3];
}

bool is_valid_es(std::string_view token) {
  for (const char* t : kValidEs)
    if (token == t) return true;
  return false;
}

bool jansson_may_refuse(std::string_view payload) {
  size_t digits = 0, depth = 0, max_depth = 0;
  for (char c : payload) {
    digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
    if (digits >= 19) return true;
    if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return max_depth >= 1000 || payload.find("\\u0000") != std::string_view::npos ||
         payload.find('\0') != std::string_view::npos;
}

void check_identity(const Identity& who, bool require_exp) {
  if (require_exp) FUZZ_CHECK(who.exp != 0);
  if (who.exp != 0) FUZZ_CHECK(who.exp + kLeeway > kNow);
  FUZZ_CHECK(who.rights.subscribe.size() <= kMaxPatternsPerClaim);
  FUZZ_CHECK(who.rights.publish.size() <= kMaxPatternsPerClaim);
  for (const auto& p : who.rights.subscribe) FUZZ_CHECK(is_valid_pattern(p));
  for (const auto& p : who.rights.publish) FUZZ_CHECK(is_valid_pattern(p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const TokenVerifier& verifier = verifier_for(mode >> 1);
  bool require_exp = (mode & 4) == 0;

  if ((mode & 1) == 0) {
    VerifyResult r = verifier.verify(rest, kNow);
    if (!r.ok()) return 0;
    if (!is_valid_es(rest)) {
      size_t last = rest.rfind('.');
      FUZZ_CHECK(last != std::string_view::npos);
      FUZZ_CHECK(rest.substr(last + 1) == hmac_signature(rest.substr(0, last)));
    }
    check_identity(r.identity, require_exp);
    return 0;
  }

  std::string input = base64url_encode(kHeader) + "." + base64url_encode(rest);
  std::string token = input + "." + hmac_signature(input);
  VerifyResult r = verifier.verify(token, kNow);
  FUZZ_CHECK(r.failure != AuthFailure::kBadSignature || jansson_may_refuse(rest));
  FUZZ_CHECK(r.failure != AuthFailure::kWrongAlg);
  FUZZ_CHECK(r.failure != AuthFailure::kUnknownKid);
  if (token.size() > kMaxTokenSize) FUZZ_CHECK(r.failure == AuthFailure::kMalformed);
  if (r.ok()) check_identity(r.identity, require_exp);
  return 0;
}
