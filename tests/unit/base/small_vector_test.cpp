// SPDX-License-Identifier: MIT
// SmallVector: the first element lives inline (no allocation), the second moves the
// elements to the heap, popping down to one brings them back inline; values survive
// every move. This binary counts operator new calls.
#include "base/small_vector.h"

#include <gtest/gtest.h>

#include <vector>

#include "../alloc_counter.h"

using relay::test::g_news;

namespace relay {
namespace {

struct Rec {
  void* p;
  uint32_t slot;
};

TEST(SmallVector, OneElementAllocatesNothing) {
  static_assert(sizeof(SmallVector<Rec>) == sizeof(std::vector<Rec>));
  const size_t before = g_news;
  SmallVector<Rec> v;
  EXPECT_TRUE(v.empty());
  v.push_back(Rec{&v, 7});
  EXPECT_EQ(g_news, before);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].p, &v);
  EXPECT_EQ(v.back().slot, 7u);
  v.pop_back();
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(g_news, before);
}

TEST(SmallVector, GrowsByDoublingAndComesBackInline) {
  SmallVector<Rec> v;
  const size_t before = g_news;
  for (uint32_t i = 0; i < 100; ++i) v.push_back(Rec{nullptr, i});
  EXPECT_EQ(g_news - before, 7u);  // capacities 2, 4, ..., 128
  uint32_t expect = 0;
  for (const Rec& r : v) EXPECT_EQ(r.slot, expect++);
  EXPECT_EQ(expect, 100u);
  v[50].slot = 5000;
  while (v.size() > 1) {
    EXPECT_EQ(v.back().slot, v.size() == 51 ? 5000u : uint32_t(v.size() - 1));
    v.pop_back();
  }
  EXPECT_EQ(v[0].slot, 0u);  // moved back inline with its value
  const size_t inline_again = g_news;
  v.push_back(Rec{nullptr, 1});  // and grows again from there
  EXPECT_EQ(g_news, inline_again + 1);
  EXPECT_EQ(v[0].slot, 0u);
  EXPECT_EQ(v[1].slot, 1u);
}

TEST(SmallVector, ClearFreesTheHeapArray) {
  SmallVector<Rec> v;
  for (uint32_t i = 0; i < 5; ++i) v.push_back(Rec{nullptr, i});
  v.clear();
  EXPECT_TRUE(v.empty());
  const size_t before = g_news;
  v.push_back(Rec{nullptr, 9});
  EXPECT_EQ(g_news, before);  // inline again
  EXPECT_EQ(v[0].slot, 9u);
}

}  // namespace
}  // namespace relay
