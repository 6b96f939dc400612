// SPDX-License-Identifier: MIT
// The handle table: a vector of object pointers and a free list under one mutex.
// Numbers are reused lowest-freed-first, as in libdill, so a closed handle's number may
// name a new object later; until then every call on it gives EBADF.
#include "ws/handle.h"

#include <cerrno>
#include <mutex>
#include <vector>

#include "ws/wsr_api.h"

namespace relay::ws {
namespace {

constexpr size_t kMaxHandles = 1u << 20;

struct Table {
  std::mutex mu;
  std::vector<HandleObject*> slots;  // nullptr = free
  std::vector<int> free_list;        // free slot numbers, most recently freed last
};

Table& table() noexcept {
  static Table* t = new Table;  // never destroyed: handles may outlive static destructors
  return *t;
}

// Needs t.mu held.
int alloc_slot(Table& t, HandleObject* obj) noexcept {
  if (!t.free_list.empty()) {
    int h = t.free_list.back();
    t.free_list.pop_back();
    t.slots[static_cast<size_t>(h)] = obj;
    return h;
  }
  if (t.slots.size() >= kMaxHandles) return -1;
  t.slots.push_back(obj);
  return static_cast<int>(t.slots.size() - 1);
}

// Needs t.mu held. Returns the object that was in slot h, or nullptr.
HandleObject* take_slot(Table& t, int h) noexcept {
  if (h < 0 || static_cast<size_t>(h) >= t.slots.size()) return nullptr;
  HandleObject* obj = t.slots[static_cast<size_t>(h)];
  if (!obj) return nullptr;
  t.slots[static_cast<size_t>(h)] = nullptr;
  t.free_list.push_back(h);
  return obj;
}

}  // namespace

void HandleObject::unref() noexcept {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (caller_memory_)
    this->~HandleObject();
  else
    delete this;
}

int hmake(HandleObject* obj) noexcept {
  if (!obj) {
    errno = EINVAL;
    return -1;
  }
  Table& t = table();
  std::lock_guard lock(t.mu);
  int h = alloc_slot(t, obj);
  if (h < 0) errno = EMFILE;
  return h;
}

int hown(int h) noexcept {
  Table& t = table();
  std::lock_guard lock(t.mu);
  if (h < 0 || static_cast<size_t>(h) >= t.slots.size() || !t.slots[static_cast<size_t>(h)]) {
    errno = EBADF;
    return -1;
  }
  // Allocate the new number before freeing the old one so the two always differ.
  HandleObject* obj = t.slots[static_cast<size_t>(h)];
  int n = alloc_slot(t, obj);
  if (n < 0) {
    errno = EMFILE;
    return -1;
  }
  take_slot(t, h);
  return n;
}

void* hquery(int h, HandleType type, HandleRef* pin) noexcept {
  HandleObject* obj = nullptr;
  {
    Table& t = table();
    std::lock_guard lock(t.mu);
    if (h >= 0 && static_cast<size_t>(h) < t.slots.size()) obj = t.slots[static_cast<size_t>(h)];
    if (obj) *pin = HandleRef(obj);
  }
  if (!obj) {
    errno = EBADF;
    return nullptr;
  }
  void* iface = obj->query(type);
  if (!iface) {
    pin->reset();
    errno = ENOTSUP;
  }
  return iface;
}

HandleRef hrelease(int h) noexcept {
  HandleObject* obj;
  {
    Table& t = table();
    std::lock_guard lock(t.mu);
    obj = take_slot(t, h);
  }
  HandleRef pin(obj);
  if (obj) obj->unref();  // the table's reference now lives on in `pin`
  return pin;
}

int hclose_object(int h) noexcept {
  HandleObject* obj;
  {
    Table& t = table();
    std::lock_guard lock(t.mu);
    obj = take_slot(t, h);
  }
  if (!obj) {
    errno = EBADF;
    return -1;
  }
  obj->cancelled_.store(true, std::memory_order_release);
  obj->on_close();
  obj->unref();  // the table's reference
  return 0;
}

}  // namespace relay::ws

// libdill hclose(): closes at once. A ws handle sends no close frame (use ws_detach).
extern "C" int wsr_hclose(int h) { return relay::ws::hclose_object(h); }
