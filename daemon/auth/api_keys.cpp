// SPDX-License-Identifier: MIT
#include "auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth/rights.h"
#include "ws/http_text.h"

namespace relay::auth {
namespace {

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

using ws::http_text::trim;
constexpr auto is_space = ws::http_text::is_blank;

}  // namespace

constexpr size_t kMinApiKey = 16;

std::string_view bearer_credentials(std::string_view authorization) noexcept {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !is_space(authorization[kScheme.size()])) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  std::string_view rest = trim(authorization.substr(kScheme.size()));
  for (char c : rest)
    if (is_space(c)) return {};  // one token, nothing after it
  return rest;
}

bool ApiKeySet::add(std::string name, std::string_view secret, std::vector<std::string> channels,
                    std::string* error) {
  if (secret.size() < kMinApiKey) {
    if (error) *error = "api key '" + name + "': needs at least 16 characters";
    return false;
  }
  for (const auto& p : channels) {
    if (!is_valid_pattern(p)) {
      if (error) *error = "api key '" + name + "': bad channel pattern '" + p + "'";
      return false;
    }
  }
  keys_.push_back(Entry{std::move(name), sha256(secret), std::move(channels)});
  return true;
}

ApiKeyCheck ApiKeySet::check(std::string_view authorization, std::string_view channel) const {
  ApiKeyCheck result;
  std::string_view presented = bearer_credentials(authorization);
  if (presented.empty()) return result;
  auto digest = sha256(presented);
  const Entry* match = nullptr;
  for (const auto& k : keys_) {  // every key is compared: no early exit
    bool equal = CRYPTO_memcmp(k.digest.data(), digest.data(), digest.size()) == 0;
    if (equal && match == nullptr) match = &k;
  }
  if (match == nullptr) {
    result.status = ApiKeyStatus::kWrongKey;
    return result;
  }
  result.name = &match->name;
  bool channel_ok = match->channels.empty() || any_pattern_matches(match->channels, channel);
  result.status = channel_ok ? ApiKeyStatus::kAllowed : ApiKeyStatus::kForbidden;
  return result;
}

}  // namespace relay::auth
