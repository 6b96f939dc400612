// SPDX-License-Identifier: MIT
// permessage-deflate negotiation (RFC 7692 §7.1) over the extension grammar of RFC 6455
// §9.1: extension = token *( ";" param ), param = token [ "=" ( token / quoted-string ) ],
// elements separated by "," (RFC 9110 §5.6.1). Separators inside a quoted string do not
// split, so the list is walked character by character.
#include "ws/deflate_offer.h"

#include "ws/http_text.h"

namespace relay::ws {

namespace {

constexpr std::string_view kName = "permessage-deflate";

constexpr bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
using http_text::iequals;
using http_text::is_blank;
using http_text::lower;
using http_text::trim;

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// The length of the prefix of `s` up to (not including) the first `sep` outside a
// quoted string; s.size() when there is none.
size_t find_unquoted(std::string_view s, char sep) noexcept {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;  // RFC 9110 §5.6.4: quoted-pair
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      return i;
    }
  }
  return s.size();
}

// A parameter value: a token, or a quoted-string whose unescaped text is kept in *out
// (RFC 7692 §7.1: "the value ... MUST conform to the ABNF below" after unquoting).
bool param_value(std::string_view raw, std::string* out) noexcept {
  out->clear();
  if (raw.empty()) return false;
  if (raw.front() != '"') {
    if (!is_token(raw)) return false;
    out->assign(raw);
    return true;
  }
  if (raw.size() < 2 || raw.back() != '"') return false;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c == '"') return false;
    if (c == '\\') {
      if (i + 2 >= raw.size()) return false;
      c = raw[++i];
    }
    out->push_back(c);
  }
  return is_token(*out);
}

// RFC 7692 §7.1.2: window bits are 1*DIGIT, "8".."15", no leading zeros.
uint8_t window_bits(std::string_view v) noexcept {
  if (v.size() == 1 && v[0] == '8') return 8;
  if (v.size() == 1 && v[0] == '9') return 9;
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return uint8_t(10 + (v[1] - '0'));
  return 0;
}

enum class Param : uint8_t {
  kServerNoContext,
  kClientNoContext,
  kServerBits,
  kClientBits,
  kUnknown,
};

Param param_of(std::string_view name) noexcept {
  // Parameter names are compared exactly as RFC 7692 §7.1 spells them.
  if (name == "server_no_context_takeover") return Param::kServerNoContext;
  if (name == "client_no_context_takeover") return Param::kClientNoContext;
  if (name == "server_max_window_bits") return Param::kServerBits;
  if (name == "client_max_window_bits") return Param::kClientBits;
  return Param::kUnknown;
}

// Parses "permessage-deflate; a; b=c" into its parameters, the same rules for an offer
// and an answer except where `answer` says: in an answer client_max_window_bits needs a
// value (§7.1.2.2).
bool parse_element(std::string_view element, DeflateOffer* out, bool answer) noexcept {
  *out = DeflateOffer{};
  size_t semi = find_unquoted(element, ';');
  if (!iequals(trim(element.substr(0, semi)), kName)) return false;
  bool seen[4] = {false, false, false, false};
  std::string value;
  while (semi < element.size()) {
    element.remove_prefix(semi + 1);
    semi = find_unquoted(element, ';');
    std::string_view param = trim(element.substr(0, semi));
    const size_t eq = param.find('=');  // a token has no '=', so the first one splits
    const std::string_view name = trim(param.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    if (has_value && !param_value(trim(param.substr(eq + 1)), &value)) return false;
    const Param p = param_of(name);
    if (p == Param::kUnknown) return false;       // §7.1: unknown parameter
    if (seen[static_cast<int>(p)]) return false;  // §7.1: "more than one"
    seen[static_cast<int>(p)] = true;
    switch (p) {
      case Param::kServerNoContext:  // §7.1.1.1: no value
        if (has_value) return false;
        out->server_no_context_takeover = true;
        break;
      case Param::kClientNoContext:  // §7.1.1.2: no value
        if (has_value) return false;
        out->client_no_context_takeover = true;
        break;
      case Param::kServerBits:  // §7.1.2.1: always a value
        if (!has_value || (out->server_max_window_bits = window_bits(value)) == 0) return false;
        break;
      case Param::kClientBits:  // §7.1.2.2: valueless only in an offer
        out->client_max_window_bits = true;
        if (!has_value) {
          if (answer) return false;
          break;
        }
        if ((out->client_max_window_bits_value = window_bits(value)) == 0) return false;
        break;
      case Param::kUnknown:
        return false;
    }
  }
  return true;
}

// Calls fn(element) for each non-empty element of the list, stopping when it returns true.
template <typename F>
bool any_element(std::string_view list, F&& fn) {
  while (!list.empty()) {
    const size_t comma = find_unquoted(list, ',');
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty() && fn(element)) return true;
    if (comma == list.size()) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool parse_deflate_offer(std::string_view element, DeflateOffer* out) noexcept {
  return parse_element(element, out, /*answer=*/false);
}

bool negotiate_deflate(std::string_view extensions, DeflateParams* agreed, std::string* response) {
  DeflateOffer offer;
  // RFC 7692 §5.1: offers come in the client's order of preference; the first usable wins.
  if (!any_element(extensions, [&](std::string_view e) { return parse_deflate_offer(e, &offer); }))
    return false;
  DeflateParams p;
  p.enabled = true;
  p.server_no_context_takeover = true;
  p.client_no_context_takeover = offer.client_no_context_takeover;
  if (offer.server_max_window_bits) p.server_max_window_bits = offer.server_max_window_bits;
  if (offer.client_max_window_bits_value)
    p.client_max_window_bits = offer.client_max_window_bits_value;
  response->assign(kName);
  // §7.1.1.1: the server may always add server_no_context_takeover.
  response->append("; server_no_context_takeover");
  // §7.1.1.2: only when the client offered it.
  if (p.client_no_context_takeover) response->append("; client_no_context_takeover");
  // §7.1.2.1: accepting server_max_window_bits means answering it (same or smaller).
  if (offer.server_max_window_bits)
    response->append("; server_max_window_bits=").append(std::to_string(p.server_max_window_bits));
  // §7.1.2.2: only when offered; with the offered value the client is bound to it.
  if (offer.client_max_window_bits_value)
    response->append("; client_max_window_bits=").append(std::to_string(p.client_max_window_bits));
  *agreed = p;
  return true;
}

std::string deflate_client_offer(bool client_no_context_takeover) {
  std::string s(kName);
  if (client_no_context_takeover) s.append("; client_no_context_takeover");
  s.append("; client_max_window_bits");
  return s;
}

bool accept_deflate_response(std::string_view extensions, DeflateParams* agreed) noexcept {
  *agreed = DeflateParams{};
  size_t elements = 0;
  DeflateOffer answer;
  bool ok = true;
  any_element(extensions, [&](std::string_view e) {
    ++elements;
    ok = parse_element(e, &answer, /*answer=*/true);
    return !ok;
  });
  // RFC 6455 §4.1 item 5 / RFC 7692 §5.1: only what we offered, once.
  if (!ok || elements != 1) return false;
  agreed->enabled = true;
  agreed->server_no_context_takeover = answer.server_no_context_takeover;
  agreed->client_no_context_takeover = answer.client_no_context_takeover;
  if (answer.server_max_window_bits) agreed->server_max_window_bits = answer.server_max_window_bits;
  if (answer.client_max_window_bits_value)
    agreed->client_max_window_bits = answer.client_max_window_bits_value;
  return true;
}

}  // namespace relay::ws
