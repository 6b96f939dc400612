// SPDX-License-Identifier: MIT
#include "auth/redact.h"

#include <gtest/gtest.h>

namespace relay::auth {
namespace {

TEST(RedactTest, TokenParametersAreReplaced) {
  EXPECT_EQ(redact_target("/ws?token=eyJhbGciOi.x.y"), "/ws?token=REDACTED");
  EXPECT_EQ(redact_target("/ws?a=1&token=secret&b=2"), "/ws?a=1&token=REDACTED&b=2");
  EXPECT_EQ(redact_target("/ws?access_token=secret"), "/ws?access_token=REDACTED");
  EXPECT_EQ(redact_target("/ws?token=a&token=b"), "/ws?token=REDACTED&token=REDACTED");
  EXPECT_EQ(redact_target("/ws?TOKEN=s;x=1"), "/ws?TOKEN=REDACTED;x=1");
  EXPECT_EQ(redact_target("/ws?%74oken=s"), "/ws?%74oken=REDACTED");
  EXPECT_EQ(redact_target("/ws?token="), "/ws?token=REDACTED");
}

TEST(RedactTest, EverythingElseIsKept) {
  EXPECT_EQ(redact_target("/ws"), "/ws");
  EXPECT_EQ(redact_target("/ws?"), "/ws?");
  EXPECT_EQ(redact_target("/ws?tokens=1&my_token=2&token"), "/ws?tokens=1&my_token=2&token");
  EXPECT_EQ(redact_target("/publish/chat?x=token=y"), "/publish/chat?x=token=y");
  EXPECT_EQ(redact_target("/ws?a=1&&b=%zz"), "/ws?a=1&&b=%zz");
}

}  // namespace
}  // namespace relay::auth
