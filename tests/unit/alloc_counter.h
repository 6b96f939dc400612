// SPDX-License-Identifier: MIT
// Replaces the global operator new/delete of the test binary that includes it (include it
// in exactly one file) to count allocations: tests assert that a hot path makes none.
// lib/ allocates through operator new only (FrameRef and ByteBuffer too), so every
// allocation of the code under test passes through here. The nothrow forms are replaced
// as well: AddressSanitizer's own nothrow new would bypass the count, and its memory must
// not be freed by the free() below.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace relay::test {
inline size_t g_news = 0;  // operator new calls so far
}  // namespace relay::test

inline void* relay_test_counted_alloc(size_t n) noexcept {
  ++relay::test::g_news;
  return std::malloc(n ? n : 1);
}
inline void* relay_test_counted_alloc_or_abort(size_t n) noexcept {
  void* p = relay_test_counted_alloc(n);
  if (!p) std::abort();
  return p;
}
void* operator new(size_t n) { return relay_test_counted_alloc_or_abort(n); }
void* operator new[](size_t n) { return relay_test_counted_alloc_or_abort(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return relay_test_counted_alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return relay_test_counted_alloc(n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
