// SPDX-License-Identifier: MIT
// Channel name validation: 1..200 bytes of [A-Za-z0-9._:/-], as a table.
#include "pubsub/channel_name.h"

#include <gtest/gtest.h>

#include <string>

namespace relay::pubsub {
namespace {

static_assert(is_valid_channel_name("chat.room-1"));
static_assert(!is_valid_channel_name(""));

TEST(ChannelName, Table) {
  struct Case {
    std::string name;
    bool valid;
  };
  const Case cases[] = {
      {"a", true},
      {"chat", true},
      {"chat.room-1", true},
      {"org:team/room_7", true},
      {"A-Z.a-z_0-9:/", true},
      {"...", true},
      {std::string(200, 'x'), true},
      {"", false},
      {std::string(201, 'x'), false},
      {"a b", false},
      {" a", false},
      {"a\n", false},
      {"chat.*", false},
      {"a?b", false},
      {"a#b", false},
      {"a[1]", false},
      {"a>b", false},
      {"a%20b", false},
      {"a\\b", false},
      {"a+b", false},
      {"caf\xc3\xa9", false},  // UTF-8 outside the ASCII set
      {std::string("a\0b", 3), false},
      {"\x7f", false},
  };
  for (const Case& c : cases)
    EXPECT_EQ(is_valid_channel_name(c.name), c.valid) << '"' << c.name << '"';
}

TEST(ChannelName, EveryByteClassified) {
  int allowed = 0;
  for (int b = 0; b < 256; ++b) {
    char c = char(b);
    std::string one(1, c);
    EXPECT_EQ(is_valid_channel_name(one), is_channel_name_char(c));
    allowed += is_channel_name_char(c);
  }
  EXPECT_EQ(allowed, 26 + 26 + 10 + 5);  // letters, digits, and . _ : / -
}

}  // namespace
}  // namespace relay::pubsub
