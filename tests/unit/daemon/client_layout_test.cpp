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
  // One timer per connection, not one per deadline: with a second timer (56 bytes) it would
  // be over. 168 = the fields of every phase, the per-turn budget counters (fair turns) and
  // the queue's share of the global budget; a field added here must earn its bytes.
  EXPECT_LE(sizeof(Client), 168u);
}

}  // namespace
}  // namespace relay::daemon
