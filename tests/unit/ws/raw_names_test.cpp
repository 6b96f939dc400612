// SPDX-License-Identifier: MIT
// The engine's C symbols carry the wsr_ prefix: a program that also links libdill (which
// defines now() and hclose()) includes ws.h with WSR_DISABLE_RAW_NAMES and calls wsr_*.
// This file is such a program: it defines its own now() and hclose(), and it links only
// because the engine's archive defines no symbol of those names.
#define WSR_DISABLE_RAW_NAMES
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

#include "ws/ws.h"

#if defined(now) || defined(hclose) || defined(ws_send)
#error "WSR_DISABLE_RAW_NAMES must leave libdill's names alone"
#endif

// Stand-ins for libdill's own functions.
extern "C" int64_t now(void) { return 42; }
extern "C" int hclose(int h) { return h == 7 ? 0 : -1; }

namespace {

TEST(RawNames, OwnNowAndHcloseLiveBesideTheEngine) {
  EXPECT_EQ(now(), 42);
  EXPECT_EQ(hclose(7), 0);
  const int64_t t = wsr_now();  // the engine's monotonic clock, never 0 or -1
  EXPECT_NE(t, 42);
  EXPECT_GT(t, 0);
  errno = 0;
  EXPECT_EQ(wsr_hclose(7), -1);  // the engine's handle table: no handle 7
  EXPECT_EQ(errno, EBADF);
}

TEST(RawNames, PrefixedCallsWork) {
  struct ipaddr addr;
  ASSERT_EQ(wsr_ipaddr_local(&addr, "127.0.0.1", 0, IPADDR_IPV4), 0);
  int ls = wsr_tcp_listen(&addr, 8);
  ASSERT_GE(ls, 0);
  EXPECT_GT(wsr_ipaddr_port(&addr), 0);
  EXPECT_EQ(wsr_hclose(ls), 0);
}

}  // namespace
