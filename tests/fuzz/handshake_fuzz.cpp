// SPDX-License-Identifier: MIT
// libFuzzer target: the HTTP upgrade parser (parse_request / parse_response) and the
// upgrade checks. Oracles (abort on violation):
//   - a complete head stays kNeedMore for every shorter prefix the parser could see;
//   - consumed <= input and <= max_head_bytes; parsed views lie inside the input;
//   - a request check_upgrade() accepts gets a 101 from our builders that parses and
//     passes check_upgrade_response() for the same key;
//   - error responses we build parse back with their status.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ws/handshake.h"

namespace {

using namespace relay::ws;  // NOLINT: fuzz harness

std::span<const std::byte> as_span(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_views(const HttpHead& h, std::string_view in) {
  FUZZ_CHECK(inside(h.method, in) && inside(h.target, in) && inside(h.version, in) &&
             inside(h.reason, in));
  FUZZ_CHECK(h.header_count <= kMaxHttpHeaders);
  for (size_t i = 0; i < h.header_count; ++i) {
    FUZZ_CHECK(!h.headers[i].name.empty());
    FUZZ_CHECK(inside(h.headers[i].name, in) && inside(h.headers[i].value, in));
  }
}

using ParseFn = HttpParse (*)(std::span<const std::byte>, const HttpLimits&, HttpHead*,
                              size_t*) noexcept;

// Parses `in`; for a complete head also checks a few shorter prefixes.
HttpParse parse_checked(ParseFn fn, std::string_view in, const HttpLimits& lim, HttpHead* head) {
  size_t consumed = 0;
  const HttpParse r = fn(as_span(in), lim, head, &consumed);
  if (r != HttpParse::kComplete) return r;
  FUZZ_CHECK(consumed <= in.size() && consumed <= lim.max_head_bytes && consumed > 0);
  check_views(*head, in);
  for (size_t cut : {consumed - 1, consumed / 2, size_t{1}}) {
    if (cut >= consumed) continue;
    HttpHead tmp;
    size_t c2 = 0;
    FUZZ_CHECK(fn(as_span(in.substr(0, cut)), lim, &tmp, &c2) == HttpParse::kNeedMore);
  }
  return r;
}

void fuzz_request(std::string_view in, const HttpLimits& lim) {
  HttpHead head;
  if (parse_checked(parse_request, in, lim, &head) != HttpParse::kComplete) return;
  UpgradeRequest up;
  const int status = check_upgrade(head, &up);
  FUZZ_CHECK(status == 0 || status == 400 || status == 426);
  std::string resp;
  if (status != 0) {
    build_error_response(&resp, status, "no");
    HttpHead rh;
    size_t c = 0;
    FUZZ_CHECK(parse_response(as_span(resp), {}, &rh, &c) == HttpParse::kComplete);
    FUZZ_CHECK(rh.status == status);
    FUZZ_CHECK((status == 426) == (rh.header("Sec-WebSocket-Version") == "13"));
    return;
  }
  FUZZ_CHECK(inside(up.key, in) && inside(up.host, in) && !up.host.empty());
  char accept[kAcceptChars + 1];
  FUZZ_CHECK(compute_accept(up.key, accept));
  static constexpr std::string_view kSupported[] = {"chat", "superchat", "v1.relay"};
  const std::string_view proto = choose_subprotocol(up.protocols, kSupported);
  FUZZ_CHECK(proto.empty() || has_token(up.protocols, proto));
  build_accept_response(&resp, accept, proto);
  HttpHead rh;
  size_t c = 0;
  FUZZ_CHECK(parse_response(as_span(resp), {}, &rh, &c) == HttpParse::kComplete);
  FUZZ_CHECK(c == resp.size());
  FUZZ_CHECK(check_upgrade_response(rh, up.key, up.protocols));
}

void fuzz_response(std::string_view in, const HttpLimits& lim) {
  HttpHead head;
  if (parse_checked(parse_response, in, lim, &head) != HttpParse::kComplete) return;
  FUZZ_CHECK(head.status >= 100 && head.status <= 999);
  (void)check_upgrade_response(head, "dGhlIHNhbXBsZSBub25jZQ==", "chat, superchat");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Byte 0 picks the limits: the defaults, or small ones to reach kTooLarge early.
  HttpLimits lim;
  if (data[0] & 0x80) {
    lim.max_head_bytes = 64 + (data[0] & 0x3F) * 8;
    lim.max_headers = data[0] & 0x0F;
  }
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz_request(in, lim);
  fuzz_response(in, lim);
  (void)has_token(in, "upgrade");
  return 0;
}
