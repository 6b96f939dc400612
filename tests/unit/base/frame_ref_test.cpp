// SPDX-License-Identifier: MIT
// FrameRef: one allocation per frame, shared by reference count; copy_of, the stamp,
// moves and the empty FrameRef. This binary counts operator new calls, which also proves
// that the counter the no-allocation tests rely on sees FrameRef's allocation.
#include "base/frame_ref.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "../alloc_counter.h"

using relay::test::g_news;

namespace relay {
namespace {

std::span<const std::byte> bytes_of(const char* s) {
  return {reinterpret_cast<const std::byte*>(s), std::strlen(s)};
}
std::string text_of(const FrameRef& f) {
  return {reinterpret_cast<const char*>(f.data()), f.size()};
}

TEST(FrameRef, AllocationIsCountedByTheTestCounter) {
  size_t before = g_news;
  FrameRef a = FrameRef::allocate(64);
  EXPECT_EQ(g_news - before, 1u);
  before = g_news;
  FrameRef b = FrameRef::copy_of(bytes_of("hello"));
  EXPECT_EQ(g_news - before, 1u);
  // Sharing it is free.
  before = g_news;
  FrameRef c = b;
  FrameRef d = std::move(c);
  EXPECT_EQ(g_news - before, 0u);
}

TEST(FrameRef, EmptyHasNoBytesAndNoCount) {
  FrameRef f;
  EXPECT_FALSE(f);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.data(), nullptr);
  EXPECT_TRUE(f.bytes().empty());
  EXPECT_EQ(f.use_count(), 0u);
  EXPECT_EQ(f.stamp_ns(), 0);
  f.set_stamp_ns(5);  // ignored: there is no block to stamp
  EXPECT_EQ(f.stamp_ns(), 0);
  f.reset();
  EXPECT_FALSE(f);
}

TEST(FrameRef, CopyOfHoldsAnIndependentCopy) {
  char src[] = "abc";
  FrameRef f = FrameRef::copy_of(bytes_of(src));
  src[0] = 'X';
  EXPECT_TRUE(f);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(text_of(f), "abc");
  EXPECT_EQ(f.bytes().size(), 3u);
  EXPECT_EQ(f.use_count(), 1u);
}

TEST(FrameRef, CopyOfNothingIsAZeroLengthFrame) {
  FrameRef f = FrameRef::copy_of({});
  EXPECT_TRUE(f);  // a frame, unlike the empty FrameRef
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.use_count(), 1u);
}

TEST(FrameRef, AllocateThenFillThroughMutableBytes) {
  FrameRef f = FrameRef::allocate(4);
  auto w = f.mutable_bytes();
  ASSERT_EQ(w.size(), 4u);
  std::memcpy(w.data(), "ping", 4);
  EXPECT_EQ(text_of(f), "ping");
}

TEST(FrameRef, CopiesShareOneBlockAndCountReferences) {
  FrameRef a = FrameRef::copy_of(bytes_of("shared"));
  {
    FrameRef b = a;
    FrameRef c;
    c = b;
    EXPECT_EQ(a.use_count(), 3u);
    EXPECT_EQ(c.data(), a.data());  // the same bytes, not a copy
    EXPECT_EQ(b.data(), a.data());
  }
  EXPECT_EQ(a.use_count(), 1u);
  FrameRef d = a;
  d.reset();
  EXPECT_FALSE(d);
  EXPECT_EQ(a.use_count(), 1u);
}

TEST(FrameRef, SelfAssignmentKeepsTheCount) {
  FrameRef a = FrameRef::copy_of(bytes_of("x"));
  FrameRef& alias = a;
  a = alias;
  EXPECT_EQ(a.use_count(), 1u);
  EXPECT_EQ(text_of(a), "x");
}

TEST(FrameRef, MoveTransfersTheReferenceAndEmptiesTheSource) {
  FrameRef a = FrameRef::copy_of(bytes_of("moved"));
  const std::byte* where = a.data();
  FrameRef b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is documented as empty
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(b.use_count(), 1u);
  FrameRef c = FrameRef::copy_of(bytes_of("other"));
  c = std::move(b);  // releases "other", takes "moved"
  EXPECT_FALSE(b);   // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(text_of(c), "moved");
  EXPECT_EQ(c.use_count(), 1u);
}

TEST(FrameRef, AssigningOverTheLastReferenceFreesTheOldBlock) {
  FrameRef keep = FrameRef::copy_of(bytes_of("keep"));
  FrameRef f = FrameRef::copy_of(bytes_of("old"));
  f = keep;  // "old" had one reference: freed here (ASan reports a leak otherwise)
  EXPECT_EQ(keep.use_count(), 2u);
  EXPECT_EQ(text_of(f), "keep");
}

TEST(FrameRef, StampIsSharedByEveryReference) {
  FrameRef a = FrameRef::copy_of(bytes_of("s"));
  EXPECT_EQ(a.stamp_ns(), 0);  // not stamped yet
  FrameRef b = a;
  a.set_stamp_ns(123456789);
  EXPECT_EQ(b.stamp_ns(), 123456789);
  EXPECT_EQ(FrameRef::allocate(1).stamp_ns(), 0);  // a new block starts unstamped
}

}  // namespace
}  // namespace relay
