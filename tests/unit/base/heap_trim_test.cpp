// SPDX-License-Identifier: MIT
// note_heap_release(): one trim per kTrimEveryBytes reported, however the bytes come.
#include "base/heap_trim.h"

#include <gtest/gtest.h>

namespace relay {
namespace {

TEST(HeapTrim, TrimsOncePerThresholdOfFreedBytes) {
  // Reach a known state: the counter restarts after a trim. The clock moves a second per
  // call, so only the bytes decide.
  int64_t now = 0;
  while (!note_heap_release(1 << 16, now += 1000)) {
  }
  int trims = 0;
  const size_t piece = 33 * 1024;  // an idle TLS connection's BIO pair
  const size_t pieces = 10 * kTrimEveryBytes / piece;
  for (size_t i = 0; i < pieces; ++i) trims += note_heap_release(piece, now += 1000) ? 1 : 0;
  const size_t per_trim = (kTrimEveryBytes + piece - 1) / piece;  // the overshoot is dropped
  EXPECT_EQ(trims, int(pieces / per_trim));
  EXPECT_GE(trims, 9);
  EXPECT_FALSE(note_heap_release(0, now += 1000));
}

TEST(HeapTrim, AtMostOncePerInterval) {
  int64_t now = 1'000'000;
  while (!note_heap_release(kTrimEveryBytes, now += kTrimIntervalMs)) {
  }
  // Many thresholds' worth within one interval: no trim until the interval has passed.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(note_heap_release(kTrimEveryBytes, now + i));
  EXPECT_TRUE(note_heap_release(0, now + kTrimIntervalMs));
}

}  // namespace
}  // namespace relay
