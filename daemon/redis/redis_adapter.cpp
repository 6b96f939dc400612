// SPDX-License-Identifier: MIT
// One small state per context: its fd and the interest hiredis asked for, mirrored in the
// reactor (modify() costs no syscall when the interest is unchanged).
#include "redis/redis_adapter.h"

#include <hiredis/async.h>

#include <new>

#include "net/reactor.h"

namespace relay::daemon::redis {
namespace {

struct Events {
  redisAsyncContext* ac;
  net::Reactor* reactor;
  int fd;
  uint32_t interest;
};

void on_io(int /*fd*/, uint32_t events, void* data) noexcept {
  auto* e = static_cast<Events*>(data);
  redisAsyncContext* ac = e->ac;
  // Either call may free ac (and e, through cleanup): one of them per report. The other
  // readiness is reported again next turn (level-triggered).
  if (events & net::kWritable)
    redisAsyncHandleWrite(ac);
  else
    redisAsyncHandleRead(ac);  // readable, or an error the read meets
}

void set(Events* e, uint32_t bit, bool on) noexcept {
  const uint32_t want = on ? (e->interest | bit) : (e->interest & ~bit);
  if (want == e->interest) return;
  e->interest = want;
  (void)e->reactor->modify(e->fd, want);
}

void add_read(void* p) noexcept { set(static_cast<Events*>(p), net::kReadable, true); }
void del_read(void* p) noexcept { set(static_cast<Events*>(p), net::kReadable, false); }
void add_write(void* p) noexcept { set(static_cast<Events*>(p), net::kWritable, true); }
void del_write(void* p) noexcept { set(static_cast<Events*>(p), net::kWritable, false); }
void cleanup(void* p) noexcept {
  auto* e = static_cast<Events*>(p);
  e->reactor->remove(e->fd);
  delete e;
}

}  // namespace

bool attach(redisAsyncContext* ac, net::Reactor& reactor) noexcept {
  if (ac->ev.data != nullptr) return false;
  auto* e = new (std::nothrow) Events{ac, &reactor, ac->c.fd, 0};
  if (!e) return false;
  if (!reactor.add(e->fd, 0, &on_io, e)) {
    delete e;
    return false;
  }
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  ac->ev.data = e;
  return true;
}

}  // namespace relay::daemon::redis
