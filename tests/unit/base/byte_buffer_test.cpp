// SPDX-License-Identifier: MIT
// ByteBuffer: bytes leave in the order they came, whatever mix of append, space+commit
// and consume; space() always offers at least what was asked; shrink_if_empty() frees
// the storage of an idle connection. This binary counts operator new calls, so the
// buffer's growth is seen by the same counter the no-allocation tests use.
#include "base/byte_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "../alloc_counter.h"

using relay::test::g_news;

namespace relay {
namespace {

void append(ByteBuffer& b, const std::string& s) {
  b.append({reinterpret_cast<const std::byte*>(s.data()), s.size()});
}
std::string text_of(const ByteBuffer& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST(ByteBuffer, StartsEmptyWithoutStorage) {
  size_t before = g_news;
  ByteBuffer b;
  EXPECT_EQ(g_news - before, 0u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  append(b, "");  // nothing to add: still no storage
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(g_news - before, 0u);
}

TEST(ByteBuffer, FirstBytesAllocateThroughTheCountedNew) {
  ByteBuffer b;
  size_t before = g_news;
  append(b, "x");
  EXPECT_EQ(g_news - before, 1u);
}

TEST(ByteBuffer, AppendThenConsumeKeepsOrder) {
  ByteBuffer b;
  append(b, "hello ");
  append(b, "world");
  EXPECT_EQ(text_of(b), "hello world");
  b.consume(6);
  EXPECT_EQ(text_of(b), "world");
  EXPECT_EQ(b.readable().size(), 5u);
  append(b, "!");
  EXPECT_EQ(text_of(b), "world!");
  b.consume(6);
  EXPECT_TRUE(b.empty());
}

TEST(ByteBuffer, SpaceAndCommitAppendInPlace) {
  ByteBuffer b;
  auto s = b.space(3);
  ASSERT_GE(s.size(), 3u);
  std::memcpy(s.data(), "abc", 3);
  b.commit(3);
  s = b.space(2);
  ASSERT_GE(s.size(), 2u);
  std::memcpy(s.data(), "de", 2);
  b.commit(2);
  EXPECT_EQ(text_of(b), "abcde");
}

TEST(ByteBuffer, SpaceOffersAtLeastTheRequestAndKeepsLiveBytes) {
  ByteBuffer b;
  append(b, "keep");
  b.consume(1);  // "eep" live, one dead byte at the head
  for (size_t want : {size_t(1), size_t(100), size_t(5000), size_t(70000)}) {
    auto s = b.space(want);
    EXPECT_GE(s.size(), want);
    EXPECT_EQ(text_of(b), "eep");
  }
}

TEST(ByteBuffer, ManySmallWritesAndReadsGiveBackTheStream) {
  ByteBuffer b;
  std::string want, got;
  for (int i = 0; i < 5000; ++i) {
    std::string chunk(size_t(i % 37), char('a' + i % 26));
    append(b, chunk);
    want += chunk;
    size_t take = std::min(b.size(), size_t(i % 53));
    got.append(reinterpret_cast<const char*>(b.data()), take);
    b.consume(take);
  }
  got += text_of(b);
  EXPECT_EQ(got, want);
}

TEST(ByteBuffer, UnmaskingInPlaceThroughReadable) {
  ByteBuffer b;
  append(b, "abc");
  for (auto& byte : b.readable()) byte = std::byte(std::to_integer<int>(byte) - 'a' + 'A');
  EXPECT_EQ(text_of(b), "ABC");
}

TEST(ByteBuffer, ClearDropsBytesButKeepsStorage) {
  ByteBuffer b;
  append(b, "data");
  size_t cap = b.capacity();
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), cap);
  size_t before = g_news;
  append(b, "more");  // reuses the storage
  EXPECT_EQ(g_news - before, 0u);
  EXPECT_EQ(text_of(b), "more");
}

TEST(ByteBuffer, ShrinkIfEmptyFreesOnlyAnEmptyBuffer) {
  ByteBuffer b;
  append(b, "live");
  b.shrink_if_empty();
  EXPECT_GT(b.capacity(), 0u);  // bytes are live: kept
  EXPECT_EQ(text_of(b), "live");
  b.consume(4);
  b.shrink_if_empty();
  EXPECT_EQ(b.capacity(), 0u);
  append(b, "again");
  EXPECT_EQ(text_of(b), "again");
}

TEST(ByteBuffer, MoveTransfersBytesAndEmptiesTheSource) {
  ByteBuffer a;
  append(a, "payload");
  a.consume(3);
  ByteBuffer b(std::move(a));
  EXPECT_EQ(text_of(b), "load");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(a.capacity(), 0u);
  ByteBuffer c;
  append(c, "old");
  c = std::move(b);  // frees "old" storage (ASan reports a leak otherwise)
  EXPECT_EQ(text_of(c), "load");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  append(a, "reuse");      // a moved-from buffer works
  EXPECT_EQ(text_of(a), "reuse");
}

}  // namespace
}  // namespace relay
