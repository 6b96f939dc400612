// SPDX-License-Identifier: MIT
// note_heap_release(): see heap_trim.h.
#include "base/heap_trim.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace relay {

bool note_heap_release(size_t bytes, int64_t now_ms) noexcept {
  thread_local size_t released = 0;  // per thread: each worker counts its own frees
  thread_local int64_t last_ms = INT64_MIN / 2;
  released += bytes;
  if (released < kTrimEveryBytes || now_ms - last_ms < kTrimIntervalMs) return false;
  released = 0;
  last_ms = now_ms;
#if defined(__GLIBC__)
  (void)malloc_trim(0);  // every arena, not only this thread's: harmless, and rare
#endif
  return true;
}

}  // namespace relay
