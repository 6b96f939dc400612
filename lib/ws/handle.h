// SPDX-License-Identifier: MIT
// The handle table behind ws.h: small ints naming objects, as in libdill handle.c
// (hmake / hown / hquery / hclose). Lookups are thread-safe and pin the object, so a
// handle closed by one thread while another is blocked on it is freed only when the
// blocked call returns (with ECANCELED). No protocol and no sockets here.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace relay::ws {

// What an object can be asked for; query() answers the interfaces it implements.
enum class HandleType : uint8_t {
  kBytestream,   // Bytestream (bytestream.h): tcp, later tls
  kMessage,      // MessageSocket (bytestream.h): msend / mrecv
  kTcp,          // TcpSock (tcp.cpp)
  kTcpListener,  // TcpListener (tcp.cpp)
  kWs,           // WsSock (ws_sock.h)
};

class HandleRef;

// Base of everything a handle can name. Objects are reference-counted: the table holds
// one reference, each in-flight call (HandleRef) another. Objects built in caller memory
// (the _mem variants) are destroyed in place, never freed.
class HandleObject {
 public:
  HandleObject() = default;
  HandleObject(const HandleObject&) = delete;
  HandleObject& operator=(const HandleObject&) = delete;
  virtual ~HandleObject() = default;

  // The interface of `type` this object implements, or nullptr (the caller reports ENOTSUP).
  virtual void* query(HandleType type) noexcept = 0;
  // hclose(): the number is gone; release what the object owns (hclose inner handles,
  // wake blocked callers). Destruction follows when the last pin drops.
  virtual void on_close() noexcept {}

  // True once hclose() has been called: blocked calls end with ECANCELED.
  bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // Marks the object as living in caller memory (destroyed in place, not deleted).
  void set_caller_memory() noexcept { caller_memory_ = true; }

 private:
  friend class HandleRef;
  friend int hclose_object(int h) noexcept;
  friend HandleRef hrelease(int h) noexcept;
  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() noexcept;
  std::atomic<uint32_t> refs_{1};  // starts with the creator's (later the table's) reference
  std::atomic<bool> cancelled_{false};
  bool caller_memory_ = false;
};

// A pin on an object: keeps it alive while a call uses it.
class HandleRef {
 public:
  HandleRef() noexcept = default;
  explicit HandleRef(HandleObject* obj) noexcept : obj_(obj) {
    if (obj_) obj_->ref();
  }
  HandleRef(const HandleRef& o) noexcept : HandleRef(o.obj_) {}
  HandleRef(HandleRef&& o) noexcept : obj_(std::exchange(o.obj_, nullptr)) {}
  HandleRef& operator=(HandleRef o) noexcept {
    std::swap(obj_, o.obj_);
    return *this;
  }
  ~HandleRef() { reset(); }
  void reset() noexcept {
    if (obj_) obj_->unref();
    obj_ = nullptr;
  }
  HandleObject* get() const noexcept { return obj_; }
  explicit operator bool() const noexcept { return obj_ != nullptr; }

 private:
  HandleObject* obj_ = nullptr;
};

// Registers a new object (taking over its creation reference); the handle or -1 with
// errno EMFILE. On failure the object is left to the caller.
int hmake(HandleObject* obj) noexcept;
// Moves the object of `h` to a fresh number: the caller's old number becomes invalid,
// so ownership visibly passes to whoever calls it. -1 with errno EBADF.
int hown(int h) noexcept;
// Looks up `h` and pins it into *pin; returns the interface of `type`. nullptr with errno
// EBADF (not open) or ENOTSUP (wrong kind).
void* hquery(int h, HandleType type, HandleRef* pin) noexcept;
// Removes `h` from the table without on_close() and returns its pin (the table's
// reference moves to it): ws_detach frees the ws object but keeps what it wrapped.
HandleRef hrelease(int h) noexcept;

template <typename T>
T* hquery_as(int h, HandleType type, HandleRef* pin) noexcept {
  return static_cast<T*>(hquery(h, type, pin));
}

}  // namespace relay::ws
