// SPDX-License-Identifier: MIT
// QueueBudget: the memory held by all clients' queues together, as a running total, and
// its limit (limits.max_total_queue_bytes). The frames are counted once however many
// queues reference them (FrameRef::live_bytes(), kept where blocks are made and freed);
// each queue's own part (its ring entries, TLS ciphertext) is a share each client keeps
// in Client::queue_accounted and moves wherever its queue grows or shrinks. So the total
// costs an addition, and the server acts only when it is over: it closes the clients with
// the largest queues first (4008) until the total is under the limit again, as Redis'
// client eviction (maxmemory-clients) does.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/frame_ref.h"

namespace relay::daemon {

class QueueBudget {
 public:
  QueueBudget();  // reads the machine's default limit once (the cgroup, /proc/meminfo)

  // Moves one client's share (its queue's own part) from `accounted` to `now`.
  void update(uint64_t& accounted, uint64_t now) noexcept {
    own_ += now - accounted;  // unsigned wrap-around adds a negative difference too
    accounted = now;
  }
  uint64_t total() const noexcept { return FrameRef::live_bytes() + own_; }
  // The limit in force: the configured one, or the machine's default for 0.
  uint64_t limit(uint64_t configured) const noexcept {
    return configured ? configured : machine_default_;
  }
  bool over(uint64_t configured) const noexcept { return total() > limit(configured); }
  uint64_t machine_default() const noexcept { return machine_default_; }

 private:
  uint64_t own_ = 0;
  uint64_t machine_default_;
};

// A quarter of the memory this process may use: the cgroup v2 limit (memory.max, "max" =
// none) if set, else MemTotal. Pure, for tests: the two files' texts ("" = absent).
uint64_t queue_budget_default(std::string_view cgroup_memory_max, std::string_view meminfo);
// The same, read from /proc/self/cgroup, /sys/fs/cgroup/<path>/memory.max and /proc/meminfo.
uint64_t queue_budget_default();

}  // namespace relay::daemon
