// SPDX-License-Identifier: MIT
// AcceptPause: interest off, a one-shot timer, interest back on.
#include "net/accept_pause.h"

namespace relay::net {

void AcceptPause::pause() noexcept {
  ++pauses_;
  // modify() fails only for lack of kernel memory; the timer retries the restore.
  (void)reactor_.modify(fd_, reactor_.interest(fd_) & ~kReadable);
  timer_.arm_after(pause_ms_);
}

void AcceptPause::resume() noexcept {
  timer_.cancel();
  if (reactor_.is_registered(fd_) && !reactor_.modify(fd_, reactor_.interest(fd_) | kReadable))
    timer_.arm_after(pause_ms_);  // try again later rather than never accept again
}

void AcceptPause::on_timer(void* self) noexcept { static_cast<AcceptPause*>(self)->resume(); }

}  // namespace relay::net
