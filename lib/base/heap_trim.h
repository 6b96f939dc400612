// SPDX-License-Identifier: MIT
// Gives the heap's free pages back to the kernel after large blocks were freed. glibc
// returns memory only from the top of its heap by itself; a buffer freed below live
// objects (an idle TLS connection's 33 KiB BIO pair, freed while the connections accepted
// after it stay) keeps its pages resident until malloc_trim(3) releases them. Callers
// report what they freed; every kTrimEveryBytes of it, one malloc_trim(0) runs (about
// 1 ms on a 30 MiB heap), so the cost is bounded by the bytes freed, not by the turns.
#pragma once

#include <cstddef>

namespace relay {

inline constexpr size_t kTrimEveryBytes = size_t(4) << 20;

// Counts `bytes` freed on this thread; trims when kTrimEveryBytes have been counted since
// the last trim. Returns true when it trimmed.
bool note_heap_release(size_t bytes) noexcept;

}  // namespace relay
