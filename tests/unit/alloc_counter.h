// SPDX-License-Identifier: MIT
// Replaces the global operator new/delete of the test binary that includes it (include it
// in exactly one file) to count allocations: tests assert that a hot path makes none.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace relay::test {
inline size_t g_news = 0;  // operator new calls so far
}  // namespace relay::test

inline void* relay_test_counted_alloc(size_t n) {
  ++relay::test::g_news;
  void* p = std::malloc(n ? n : 1);
  if (!p) std::abort();
  return p;
}
void* operator new(size_t n) { return relay_test_counted_alloc(n); }
void* operator new[](size_t n) { return relay_test_counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
