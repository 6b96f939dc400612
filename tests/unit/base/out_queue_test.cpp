// SPDX-License-Identifier: MIT
// OutQueue: frames leave in order, byte counts follow partial writes, gather limits,
// zero-length frames, drop_unstarted and clear; no allocation while it holds one frame at
// a time, nor in a steady flow once warmed up. This binary counts operator new calls.
#include "base/out_queue.h"

#include <gtest/gtest.h>
#include <sys/uio.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "../alloc_counter.h"

using relay::test::g_news;

namespace relay {
namespace {

FrameRef frame_of(const std::string& s) {
  return FrameRef::copy_of({reinterpret_cast<const std::byte*>(s.data()), s.size()});
}

// Everything gather() offers, concatenated.
std::string gathered(const OutQueue& q, int max = 64) {
  iovec iov[64];
  int n = q.gather(iov, max);
  std::string out;
  for (int i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(OutQueue, OneFrameAtATimeNeverAllocates) {
  OutQueue q;
  FrameRef f = frame_of("hello");
  size_t before = g_news;
  for (int i = 0; i < 100; ++i) {
    q.push(f);
    EXPECT_EQ(q.frames(), 1u);
    EXPECT_EQ(q.bytes(), 5u);
    EXPECT_EQ(gathered(q), "hello");
    q.consume(2);
    EXPECT_TRUE(q.front_started());
    EXPECT_EQ(gathered(q), "llo");
    q.consume(3);
    EXPECT_TRUE(q.empty());
  }
  EXPECT_EQ(g_news - before, 0u);
  EXPECT_EQ(f.use_count(), 1u);  // the queue let go of every reference
}

TEST(OutQueue, ManyFramesKeepOrderAndByteCount) {
  OutQueue q;
  std::string want;
  for (int i = 0; i < 40; ++i) {
    std::string s(size_t(1 + i % 3), char('a' + i % 26));
    q.push(frame_of(s));
    want += s;
  }
  EXPECT_EQ(q.frames(), 40u);
  EXPECT_EQ(q.bytes(), want.size());
  EXPECT_EQ(gathered(q), want);
  EXPECT_FALSE(q.front_started());
}

TEST(OutQueue, PartialWritesResumeMidFrame) {
  OutQueue q;
  q.push(frame_of("hello"));
  q.push(frame_of("world"));
  q.push(frame_of("!"));
  std::vector<std::string> sent;
  auto on_sent = [&](const FrameRef& f) {
    sent.emplace_back(reinterpret_cast<const char*>(f.data()), f.size());
  };
  q.consume(3, on_sent);  // "hel" written: "hello" is started, not finished
  EXPECT_TRUE(sent.empty());
  EXPECT_TRUE(q.front_started());
  EXPECT_EQ(q.frames(), 3u);
  EXPECT_EQ(q.bytes(), 8u);
  EXPECT_EQ(gathered(q), "loworld!");
  iovec iov[1];
  ASSERT_EQ(q.gather(iov, 1), 1);  // the front entry starts at the unwritten byte
  EXPECT_EQ(std::string(static_cast<char*>(iov[0].iov_base), iov[0].iov_len), "lo");
  q.consume(4, on_sent);  // "lo" finishes "hello", "wo" starts "world"
  EXPECT_EQ(sent, std::vector<std::string>{"hello"});
  EXPECT_EQ(q.frames(), 2u);
  EXPECT_EQ(q.bytes(), 4u);
  EXPECT_EQ(gathered(q), "rld!");
  q.consume(4, on_sent);  // one write across the end of two frames
  EXPECT_EQ(sent, (std::vector<std::string>{"hello", "world", "!"}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_FALSE(q.front_started());
}

TEST(OutQueue, SteadyFlowAllocatesNothingAfterWarmUp) {
  // The frames are made before the counted part: only the queue's own allocations count.
  std::vector<FrameRef> frames;
  for (int i = 0; i < 6; ++i) frames.push_back(frame_of(std::string(1, char('a' + i))));
  OutQueue q;
  for (const FrameRef& f : frames) q.push(f);  // warm-up: the queue reaches its size
  q.consume(6);
  size_t before = g_news;
  for (int round = 0; round < 50; ++round) {
    for (const FrameRef& f : frames) q.push(f);
    EXPECT_EQ(gathered(q), "abcdef");
    q.consume(4);
    EXPECT_EQ(gathered(q), "ef");
    q.consume(2);
  }
  EXPECT_EQ(g_news - before, 0u);
  EXPECT_TRUE(q.empty());
  for (const FrameRef& f : frames) EXPECT_EQ(f.use_count(), 1u);
}

TEST(OutQueue, GatherRespectsMaxAndSkipsEmptyFrames) {
  OutQueue q;
  q.push(frame_of("ab"));
  q.push(FrameRef::allocate(0));
  q.push(frame_of("cd"));
  q.push(frame_of("ef"));
  iovec iov[2];
  ASSERT_EQ(q.gather(iov, 2), 2);
  EXPECT_EQ(std::string(static_cast<char*>(iov[1].iov_base), iov[1].iov_len), "cd");
  int sent = 0;
  q.consume(3, [&](const FrameRef&) { ++sent; });  // "ab", the empty frame, half of "cd"
  EXPECT_EQ(sent, 2);
  EXPECT_EQ(gathered(q), "def");
  q.consume(3, [&](const FrameRef&) { ++sent; });
  EXPECT_EQ(sent, 4);
  EXPECT_TRUE(q.empty());
}

TEST(OutQueue, DropUnstartedKeepsAPartlyWrittenFront) {
  OutQueue q;
  q.push(frame_of("abc"));
  q.push(frame_of("def"));
  q.push(frame_of("ghi"));
  q.consume(1);
  q.drop_unstarted();
  EXPECT_EQ(q.frames(), 1u);
  EXPECT_EQ(q.bytes(), 2u);
  EXPECT_EQ(gathered(q), "bc");
  q.consume(2);
  q.push(frame_of("jk"));
  q.drop_unstarted();  // nothing started: everything goes
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(OutQueue, ClearAndDestroyReleaseFrames) {
  FrameRef shared = frame_of("shared");
  {
    OutQueue q;
    q.push(shared);
    EXPECT_EQ(shared.use_count(), 2u);
    q.clear();
    EXPECT_EQ(shared.use_count(), 1u);
    for (int i = 0; i < 10; ++i) q.push(shared);
    EXPECT_EQ(shared.use_count(), 11u);
  }
  EXPECT_EQ(shared.use_count(), 1u);
  OutQueue inline_only;
  inline_only.push(shared);
  EXPECT_EQ(shared.use_count(), 2u);
}

TEST(OutQueue, MemoryCountsBlocksAndEntriesNotJustPayload) {
  OutQueue q;
  EXPECT_EQ(q.memory(), 0u);
  FrameRef one = frame_of("x");
  EXPECT_GE(one.footprint(), 32u);  // the block header and the allocator's minimum chunk
  for (int i = 0; i < 1000; ++i) q.push(frame_of("x"));
  EXPECT_EQ(q.bytes(), 1000u);
  // 1-byte frames hold far more than one byte each: the limits must see that.
  const size_t entry = sizeof(FrameRef) + sizeof(size_t);  // a ring entry: {frame, offset}
  EXPECT_EQ(q.memory(), 1000u * (one.footprint() + entry));
  q.consume(400);
  EXPECT_EQ(q.memory(), 600u * (one.footprint() + entry));
  q.consume(600);
  EXPECT_EQ(q.memory(), 0u);
}

TEST(OutQueue, MemoryFollowsPartialWritesDropAndClear) {
  OutQueue q;
  FrameRef big = FrameRef::allocate(1000);
  const size_t per = big.footprint();
  EXPECT_GE(per, 1000u + 24u);
  q.push(big);
  const size_t entry = q.memory() - per;
  EXPECT_EQ(entry, sizeof(FrameRef) + sizeof(size_t));
  q.push(big);
  q.push(big);
  EXPECT_EQ(q.memory(), 3 * (per + entry));
  q.consume(10);  // a partly written frame still pins its whole block
  EXPECT_EQ(q.memory(), 3 * (per + entry));
  q.drop_unstarted();
  EXPECT_EQ(q.memory(), per + entry);
  q.clear();
  EXPECT_EQ(q.memory(), 0u);
}

TEST(OutQueue, SharedFrameCountsInFullInEveryQueue) {
  // The choice documented in out_queue.h: per reference, whole, an upper bound.
  FrameRef shared = FrameRef::allocate(4096);
  OutQueue a;
  OutQueue b;
  a.push(shared);
  b.push(shared);
  EXPECT_EQ(a.memory(), b.memory());
  EXPECT_GT(a.memory(), 4096u);
}

TEST(OutQueue, LargeRingIsGivenBackWhenEmpty) {
  FrameRef f = frame_of("y");
  OutQueue q;
  for (size_t i = 0; i < 4 * OutQueue::kRingKept; ++i) q.push(f);
  EXPECT_GT(q.capacity(), OutQueue::kRingKept);
  q.consume(q.bytes());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 1u);
  q.push(f);  // usable again
  EXPECT_EQ(gathered(q), "y");
}

}  // namespace
}  // namespace relay
