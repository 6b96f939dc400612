// SPDX-License-Identifier: MIT
// Memory per connection: an idle WebSocket connection holds a Client and a WsSession and
// none of the HTTP phase's state (HttpSession is freed at the upgrade). Before the split
// it held a 344-byte Client and a 232-byte ws::Protocol (576 bytes); the bound below
// keeps it from growing back.
#include <gtest/gtest.h>

#include <cstdio>

#include "client.h"

namespace relay::daemon {
namespace {

TEST(ClientLayout, IdleWebSocketConnectionIsSmallerThanBeforeTheSplit) {
  std::printf("sizeof Client %zu, HttpSession %zu, WsSession %zu, net::Timer %zu\n", sizeof(Client),
              sizeof(HttpSession), sizeof(WsSession), sizeof(net::Timer));
  EXPECT_LE(sizeof(Client) + sizeof(WsSession), 576u);
  // One timer per connection, not one per deadline.
  EXPECT_LT(sizeof(Client), sizeof(net::Timer) * 3);
}

}  // namespace
}  // namespace relay::daemon
