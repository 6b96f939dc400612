// SPDX-License-Identifier: MIT
// FixedPool<Size>: blocks of one size carved from 64 KiB slabs, with a free list, for
// the objects every connection holds (the daemon's Client and WsSession). glibc's malloc
// puts an 8-byte header before each block and rounds it to 16 bytes (a 168-byte Client
// takes 176); here a block is its size rounded to 8, and nothing else. Slabs are never
// given back: a pool stays at its high-water mark, as the connections it served may come
// back. One pool per thread (a worker's clients are made and freed on its thread; a block
// freed on another thread joins that thread's list, which is still correct).
// Under AddressSanitizer RELAY_POOLED classes use plain new and delete (ASan's own checks
// and leak report stay exact); FixedPool itself poisons its free blocks and is tested so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RELAY_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RELAY_POOL_ASAN 1
#endif
#if defined(RELAY_POOL_ASAN)
#include <sanitizer/asan_interface.h>
#define RELAY_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define RELAY_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define RELAY_POOL_POISON(p, n) ((void)(p), (void)(n))
#define RELAY_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace relay {

template <size_t Size>
class FixedPool {
 public:
  static constexpr size_t kBlock =
      (Size + 7) / 8 * 8 < sizeof(void*) ? sizeof(void*) : (Size + 7) / 8 * 8;
  static constexpr size_t kSlabBytes = 64 * 1024;
  static constexpr size_t kPerSlab = (kSlabBytes - 16) / kBlock;  // after the slab's link
  static_assert(kPerSlab >= 1);

  FixedPool() = default;
  FixedPool(const FixedPool&) = delete;
  FixedPool& operator=(const FixedPool&) = delete;
  // Only once every block came back (tests); the threads' own pools are never destroyed.
  ~FixedPool() {
    while (slabs_) {
      Slab* next = slabs_->next;
      ::operator delete(slabs_);
      slabs_ = next;
    }
  }

  // This thread's pool, never destroyed: blocks may be freed during the thread's exit.
  static FixedPool& local() {
    thread_local FixedPool* pool = new FixedPool;
    return *pool;
  }

  void* allocate() {
    if (!free_) refill();
    Free* f = free_;
    RELAY_POOL_UNPOISON(f, kBlock);
    free_ = f->next;
    ++live_;
    return f;
  }
  void release(void* p) noexcept {
    Free* f = static_cast<Free*>(p);
    f->next = free_;
    free_ = f;
    --live_;
    RELAY_POOL_POISON(f, kBlock);
  }
  size_t live() const noexcept { return live_; }                           // blocks handed out
  size_t slab_bytes() const noexcept { return slab_count_ * kSlabBytes; }  // from the heap

 private:
  struct Free {
    Free* next;
  };
  struct Slab {
    Slab* next;  // every slab stays listed (and reachable for leak checkers)
  };
  void refill() {
    auto* slab = static_cast<std::byte*>(::operator new(kSlabBytes));
    reinterpret_cast<Slab*>(slab)->next = slabs_;
    slabs_ = reinterpret_cast<Slab*>(slab);
    ++slab_count_;
    // Listed in address order, so consecutive connections get neighbouring blocks.
    for (size_t i = kPerSlab; i-- > 0;) {
      Free* f = reinterpret_cast<Free*>(slab + 16 + i * kBlock);
      f->next = free_;
      free_ = f;
      RELAY_POOL_POISON(f, kBlock);
    }
  }
  Free* free_ = nullptr;
  Slab* slabs_ = nullptr;
  size_t live_ = 0;
  size_t slab_count_ = 0;
};

// Class-specific operator new/delete that take a T's memory from FixedPool<sizeof(T)>:
//   struct Client { RELAY_POOLED(Client) ... };
#if defined(RELAY_POOL_ASAN)
#define RELAY_POOLED(T)
#else
#define RELAY_POOLED(T)                                                                            \
  static void* operator new(size_t n) {                                                            \
    static_assert(alignof(T) <= 8);                                                                \
    return n == sizeof(T) ? ::relay::FixedPool<sizeof(T)>::local().allocate() : ::operator new(n); \
  }                                                                                                \
  static void operator delete(void* p, size_t n) noexcept {                                        \
    if (n == sizeof(T))                                                                            \
      ::relay::FixedPool<sizeof(T)>::local().release(p);                                           \
    else                                                                                           \
      ::operator delete(p);                                                                        \
  }
#endif

}  // namespace relay
