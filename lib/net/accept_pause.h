// SPDX-License-Identifier: MIT
// AcceptPause: stops accepting on a listener for a while after accept_nonblocking()
// reported kExhausted (out of fds or memory). The listener stays readable while
// connections wait in its backlog, so without a pause a level-triggered loop would
// spin on EMFILE. Pausing drops the listener's interest and a timer restores it.
//
//   net::AcceptPause pause(reactor, listen_fd, 100);
//   ... in the listener's callback:
//   if (a.status == net::AcceptStatus::kExhausted) { pause.pause(); return; }
#pragma once

#include <cstdint>

#include "net/reactor.h"

namespace relay::net {

class AcceptPause {
 public:
  // listen_fd must be registered with the reactor (kReadable) whenever pause() is called.
  AcceptPause(Reactor& reactor, int listen_fd, int64_t pause_ms) noexcept
      : reactor_(reactor), fd_(listen_fd), pause_ms_(pause_ms), timer_(reactor, &on_timer, this) {}

  // Drops kReadable from the listener and restores it after pause_ms. Pausing while
  // paused restarts the wait.
  void pause() noexcept;
  // Restores kReadable now (e.g. a client was freed, so an fd is available again).
  void resume() noexcept;
  bool is_paused() const noexcept { return timer_.is_armed(); }
  uint64_t pauses() const noexcept { return pauses_; }  // times pause() was called

 private:
  static void on_timer(void* self) noexcept;
  Reactor& reactor_;
  int fd_;
  int64_t pause_ms_;
  uint64_t pauses_ = 0;
  Timer timer_;
};

}  // namespace relay::net
