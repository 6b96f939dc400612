// SPDX-License-Identifier: MIT
// Gives the heap's free pages back to the kernel after large blocks were freed. glibc
// returns memory only from the top of its heap by itself; a buffer freed below live
// objects (an idle TLS connection's 33 KiB BIO pair, freed while the connections accepted
// after it stay) keeps its pages resident until malloc_trim(3) releases them. Callers
// report what they freed; once kTrimEveryBytes of it are counted, one malloc_trim(0) runs
// at most every kTrimIntervalMs: bounded by the bytes freed, and by time (4 per second) for
// a server whose thousands of wss connections go idle and active again every second. The
// daemon also calls it once a second with 0 bytes, for a trim still owed after a burst.
#pragma once

#include <cstddef>
#include <cstdint>

namespace relay {

inline constexpr size_t kTrimEveryBytes = size_t(4) << 20;
inline constexpr int64_t kTrimIntervalMs = 250;

// Counts `bytes` freed on this thread; trims when kTrimEveryBytes have been counted since
// the last trim and that was kTrimIntervalMs ago (now_ms: a monotonic clock). Returns true
// when it trimmed.
bool note_heap_release(size_t bytes, int64_t now_ms) noexcept;

}  // namespace relay
