// SPDX-License-Identifier: MIT
// libFuzzer target: the permessage-deflate offer parser and negotiation (RFC 7692 §7.1).
// Oracles (abort on violation):
//   - an agreed answer is one a strict client accepts (accept_deflate_response), agreeing
//     on the same parameters, with server_no_context_takeover always in it;
//   - window bits are always 8..15; client_no_context_takeover and the window sizes are
//     answered only when some element of the input offered them;
//   - the answer depends on the list alone: the same list split over two header lines
//     at a comma between elements gives the same answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ws/deflate_offer.h"
#include "ws/handshake.h"

namespace {

using namespace relay::ws;  // NOLINT: fuzz harness

bool bits_ok(uint8_t b) { return b >= 8 && b <= 15; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  DeflateOffer offer;
  if (parse_deflate_offer(in, &offer)) {
    FUZZ_CHECK(offer.server_max_window_bits == 0 || bits_ok(offer.server_max_window_bits));
    FUZZ_CHECK(offer.client_max_window_bits_value == 0 ||
               bits_ok(offer.client_max_window_bits_value));
    FUZZ_CHECK(offer.client_max_window_bits || offer.client_max_window_bits_value == 0);
  }
  DeflateParams agreed;
  std::string response;
  const bool ok = negotiate_deflate(in, &agreed, &response);
  FUZZ_CHECK(ok == agreed.enabled);
  if (ok) {
    FUZZ_CHECK(agreed.server_no_context_takeover);
    FUZZ_CHECK(bits_ok(agreed.server_max_window_bits) && bits_ok(agreed.client_max_window_bits));
    DeflateParams client;
    FUZZ_CHECK(accept_deflate_response(response, &client));
    FUZZ_CHECK(client == agreed);
    // Only what was offered somewhere in the input.
    if (agreed.client_no_context_takeover)
      FUZZ_CHECK(in.find("client_no_context_takeover") != std::string_view::npos);
    if (response.find("server_max_window_bits") != std::string::npos)
      FUZZ_CHECK(in.find("server_max_window_bits") != std::string_view::npos);
    if (response.find("client_max_window_bits") != std::string::npos)
      FUZZ_CHECK(in.find("client_max_window_bits") != std::string_view::npos);
  } else {
    FUZZ_CHECK(response.empty());
  }
  // Two header lines, split at the first comma outside quotes (none inside when the
  // input has no quote), make the same list.
  if (in.find('"') == std::string_view::npos && in.size() < 8000) {
    const size_t comma = in.find(',');
    if (comma != std::string_view::npos) {
      HttpHead head;
      head.headers[0] = {"Sec-WebSocket-Extensions", in.substr(0, comma)};
      head.headers[1] = {"Sec-WebSocket-Extensions", in.substr(comma + 1)};
      head.header_count = 2;
      DeflateParams split;
      std::string split_response;
      FUZZ_CHECK(negotiate_deflate(head, &split, &split_response) == ok);
      FUZZ_CHECK(split == agreed && split_response == response);
    }
  }
  // The client side on arbitrary answers: never crashes, and what it accepts is sane.
  DeflateParams answer;
  if (accept_deflate_response(in, &answer))
    FUZZ_CHECK(answer.enabled && bits_ok(answer.server_max_window_bits) &&
               bits_ok(answer.client_max_window_bits));
  return 0;
}
