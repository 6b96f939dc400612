// SPDX-License-Identifier: MIT
// daemon/media_type: Content-Type compared case-insensitively, parameters ignored (issue 9).
#include "media_type.h"

#include <gtest/gtest.h>

namespace relay::daemon::wire {
namespace {

TEST(MediaType, Json) {
  for (const char* yes :
       {"application/json", "Application/JSON; charset=utf-8", " application/json ;charset=UTF-8",
        "application/ld+json", "APPLICATION/VND.API+JSON"})
    EXPECT_TRUE(is_json_media_type(yes)) << yes;
  for (const char* no : {"", "text/plain", "application/jsonx", "application/+json",
                         "application/x/y+json", "text/json", "application/json-seq", "json"})
    EXPECT_FALSE(is_json_media_type(no)) << no;
}

TEST(MediaType, Text) {
  for (const char* yes : {"text/plain", "Text/Plain; charset=utf-8", "TEXT/CSV", " text/html"})
    EXPECT_TRUE(is_text_media_type(yes)) << yes;
  for (const char* no : {"", "text/", "text", "application/json", "texts/plain", "text/a/b"})
    EXPECT_FALSE(is_text_media_type(no)) << no;
}

}  // namespace
}  // namespace relay::daemon::wire
