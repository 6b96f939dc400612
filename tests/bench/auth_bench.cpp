// SPDX-License-Identifier: MIT
// Google Benchmark for daemon/auth, in ns per operation: verifying an HS256 and an ES256
// token (once per connection), may_subscribe against a token with 10 patterns (once per
// subscription) and a rate-limit check (once per message). Run a Release build:
//   build-rel/tests/bench/auth_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "auth/rights.h"
#include "auth/token_bucket.h"
#include "auth/token_issue.h"
#include "auth/token_verifier.h"

namespace relay::auth {
namespace {

constexpr int64_t kNow = 1'800'000'000;

// A fresh P-256 key as a private PEM, made in-process (no files, no openssl CLI).
std::string ec_private_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

TokenSpec bench_spec() {
  return {.sub = "alice",
          .subscribe = {"chat.*", "news"},
          .publish = {"chat.lobby"},
          .ttl_s = 3600,
          .now_s = kNow};
}

void verify_bench(benchmark::State& state, const Key& key) {
  TokenVerifier verifier({key}, {});
  std::string token = make_token(key, bench_spec());
  if (!verifier.verify(token, kNow).ok()) state.SkipWithError("token does not verify");
  for (auto _ : state) benchmark::DoNotOptimize(verifier.verify(token, kNow));
}

void BM_VerifyHS256(benchmark::State& state) {
  Key key{.kid = "hs", .alg = Alg::kHS256, .secret = make_secret()};
  verify_bench(state, key);
}
BENCHMARK(BM_VerifyHS256);

void BM_VerifyES256(benchmark::State& state) {
  std::string error;
  auto key = load_key({.kid = "es", .alg = "ES256", .pem = ec_private_pem()}, nullptr, &error);
  if (!key) {
    state.SkipWithError(error.c_str());
    return;
  }
  verify_bench(state, *key);
}
BENCHMARK(BM_VerifyES256);

void BM_MaySubscribe10Patterns(benchmark::State& state) {
  Identity who{.sub = "alice"};
  for (int i = 0; i < 9; ++i) who.rights.subscribe.push_back("room" + std::to_string(i) + ".*");
  who.rights.subscribe.push_back("chat.lobby");  // the match is the last pattern
  ChannelAccess claims{ChannelPolicy::kClaims, ChannelPolicy::kClaims};
  for (auto _ : state)
    benchmark::DoNotOptimize(may_subscribe(AuthMode::kRequired, &who, "chat.lobby", claims));
}
BENCHMARK(BM_MaySubscribe10Patterns);

void BM_RateLimiterCheck(benchmark::State& state) {
  // Limits high enough that every check is allowed: the common path.
  RateLimiter limits(1'000'000'000, 0, 4'000'000'000u, 0, 1);
  int64_t now = 1;
  for (auto _ : state) benchmark::DoNotOptimize(limits.check(128, ++now));
}
BENCHMARK(BM_RateLimiterCheck);

}  // namespace
}  // namespace relay::auth

BENCHMARK_MAIN();
