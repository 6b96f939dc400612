// SPDX-License-Identifier: MIT
// OutQueue: the inline first entry (no allocation while it holds one frame), growth
// and wrap-around of the heap ring, partial consumes, gather limits, zero-length
// frames, drop_unstarted and clear. This binary counts operator new calls.
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
  EXPECT_EQ(q.capacity(), 1u);
  EXPECT_EQ(f.use_count(), 1u);  // the queue let go of every reference
}

TEST(OutQueue, GrowsFromInlineAndKeepsOrder) {
  OutQueue q;
  q.push(frame_of("a"));
  size_t before = g_news;
  q.push(frame_of("bc"));  // the second frame moves the ring to the heap
  EXPECT_GT(g_news - before, 0u);
  EXPECT_EQ(q.capacity(), 8u);
  for (int i = 0; i < 20; ++i) q.push(frame_of(std::string(1, char('d' + i))));
  EXPECT_EQ(q.capacity(), 32u);
  EXPECT_EQ(q.frames(), 22u);
  EXPECT_EQ(gathered(q), "abcdefghijklmnopqrstuvw");
  EXPECT_EQ(q.bytes(), 23u);
}

TEST(OutQueue, WrapsAroundWithoutGrowing) {
  OutQueue q;
  for (int i = 0; i < 8; ++i) q.push(frame_of("x"));  // capacity 8
  q.consume(8);
  size_t before = g_news;
  std::string want;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 6; ++i) q.push(frame_of(std::string(1, char('a' + i))));
    EXPECT_EQ(gathered(q), "abcdef");
    q.consume(4);
    EXPECT_EQ(gathered(q), "ef");
    q.consume(2);
  }
  // frame_of allocates its FrameRef with malloc, not new: every new here is the ring's.
  EXPECT_EQ(g_news - before, 0u);
  EXPECT_EQ(q.capacity(), 8u);
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

}  // namespace
}  // namespace relay
