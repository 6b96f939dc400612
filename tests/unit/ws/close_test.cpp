// SPDX-License-Identifier: MIT
// Close codes (lib/ws/close.cpp): the validity table over every 16-bit code and the
// failure-to-code table.
#include "ws/close.h"

#include <gtest/gtest.h>

#include "ws/utf8.h"

namespace relay::ws {
namespace {

// RFC 6455 §7.4.1-2 plus the IANA registry: what a peer may put in a close frame.
bool expected_valid(unsigned code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

TEST(CloseCode, TableOverEverySixteenBitCode) {
  for (unsigned code = 0; code <= 0xFFFF; ++code)
    ASSERT_EQ(is_valid_wire_code(static_cast<uint16_t>(code)), expected_valid(code)) << code;
}

TEST(CloseCode, Boundaries) {
  for (uint16_t ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                      3999, 4000, 4999})
    EXPECT_TRUE(is_valid_wire_code(ok)) << ok;
  // 1004 reserved; 1005/1006/1015 must never be on the wire; 0-999 and 1016-2999
  // unassigned or reserved; >= 5000 undefined.
  for (uint16_t bad : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    EXPECT_FALSE(is_valid_wire_code(bad)) << bad;
  EXPECT_TRUE(is_sendable_code(1000));
  EXPECT_FALSE(is_sendable_code(1005));
}

TEST(CloseCode, FailureTable) {
  EXPECT_EQ(close_code_for(Failure::kProtocol), 1002);
  EXPECT_EQ(close_code_for(Failure::kBadUtf8), 1007);
  EXPECT_EQ(close_code_for(Failure::kTooBig), 1009);
  EXPECT_EQ(close_code_for(Failure::kPolicy), 1008);
  for (Failure f : {Failure::kProtocol, Failure::kBadUtf8, Failure::kTooBig, Failure::kPolicy}) {
    // Every code we send must itself be valid on the wire, and the reason fit a close
    // frame (RFC 6455 §5.5: 125 bytes minus the 2-byte code) as UTF-8.
    EXPECT_TRUE(is_valid_wire_code(close_code_for(f)));
    std::string_view r = close_reason_for(f);
    EXPECT_FALSE(r.empty());
    EXPECT_LE(r.size(), 123u);
    EXPECT_TRUE(is_valid_utf8({reinterpret_cast<const std::byte*>(r.data()), r.size()}));
  }
}

}  // namespace
}  // namespace relay::ws
