// SPDX-License-Identifier: MIT
// FixedPool: blocks are distinct, aligned and reused after release; a slab serves many
// blocks; a class with RELAY_POOLED still news and deletes as before.
#include "base/fixed_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

namespace relay {
namespace {

TEST(FixedPool, BlocksAreDistinctAlignedAndReused) {
  FixedPool<168> pool;
  static_assert(FixedPool<168>::kBlock == 168);
  static_assert(FixedPool<20>::kBlock == 24);
  std::vector<void*> got;
  std::set<uintptr_t> seen;
  const size_t n = 3 * FixedPool<168>::kPerSlab + 5;  // four slabs
  for (size_t i = 0; i < n; ++i) {
    void* p = pool.allocate();
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u);
    std::memset(p, int(i), 168);  // the whole block is ours
    EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(p)).second);
    got.push_back(p);
  }
  EXPECT_EQ(pool.live(), n);
  EXPECT_EQ(pool.slab_bytes(), 4 * FixedPool<168>::kSlabBytes);
  for (size_t i = 0; i < n; i += 2) pool.release(got[i]);
  // Released blocks come back before a new slab is taken.
  for (size_t i = 0; i < n; i += 2) {
    void* p = pool.allocate();
    EXPECT_EQ(seen.count(reinterpret_cast<uintptr_t>(p)), 1u);
    got[i] = p;
  }
  EXPECT_EQ(pool.slab_bytes(), 4 * FixedPool<168>::kSlabBytes);
  for (void* p : got) pool.release(p);
  EXPECT_EQ(pool.live(), 0u);
}

struct Pooled {
  RELAY_POOLED(Pooled)
  explicit Pooled(int v) : value(v) {}
  int value;
  char pad[100] = {};
};

TEST(FixedPool, PooledClassNewAndDelete) {
  std::vector<std::unique_ptr<Pooled>> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::make_unique<Pooled>(i));
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(v[size_t(i)]->value, i);
  v.clear();
  auto again = std::make_unique<Pooled>(7);
  EXPECT_EQ(again->value, 7);
}

}  // namespace
}  // namespace relay
