// SPDX-License-Identifier: MIT
// Base64url without padding (RFC 7515 §2), strict on decode: a token part is accepted in
// exactly one spelling, so nobody can vary the unused low bits of the last character.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace relay::auth {

std::string base64url_encode(std::span<const unsigned char> bytes);
std::string base64url_encode(std::string_view bytes);
// nullopt on a character outside the alphabet, padding, a length of 4n+1 or non-zero
// unused bits in the last character.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace relay::auth
