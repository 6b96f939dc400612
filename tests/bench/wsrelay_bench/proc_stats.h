// SPDX-License-Identifier: MIT
// What /proc says about the relay and the machine: the relay's CPU time (utime + stime
// of /proc/PID/stat, every thread), its VmRSS (/proc/PID/status), and the machine's
// busy time (/proc/stat) so a run can tell whether other processes shared the cores.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace relay::bench {

// utime + stime of a whole process in seconds; -1 when it cannot be read.
double process_cpu_seconds(pid_t pid) noexcept;
// VmRSS in kB; -1 when it cannot be read.
int64_t process_rss_kb(pid_t pid) noexcept;
// The kernel's slab memory for sockets (the TCP, sock_inode_cache, filp and
// eventpoll_epi caches of /proc/slabinfo: active objects x object size) in bytes; -1
// when unreadable (root only). Not part of any process' RSS.
int64_t socket_slab_bytes() noexcept;
// This process' user + system CPU time in seconds (getrusage).
double self_cpu_seconds() noexcept;

// The "cpu" line of /proc/stat in seconds, summed over all cores.
struct MachineCpu {
  double busy = 0;     // user + nice + system + irq + softirq
  double softirq = 0;  // irq + softirq (part of busy; loopback TCP runs here)
  double steal = 0;    // taken by the hypervisor for other guests
  double idle = 0;     // idle + iowait
};
MachineCpu machine_cpu() noexcept;

// A snapshot of everything above, taken at the start and the end of a measured phase.
struct CpuSnapshot {
  int64_t wall_ns = 0;
  double relay = 0;
  double self = 0;
  MachineCpu machine;
};
CpuSnapshot take_snapshot(pid_t relay_pid) noexcept;

// Differences between two snapshots.
struct CpuUsage {
  double wall_s = 0;
  double relay_s = 0;  // -1 when the relay pid was not given or not readable
  double bench_s = 0;
  double busy_s = 0;   // all cores
  double other_s = 0;  // busy - relay - bench: what other processes used
  double softirq_s = 0;
  double steal_s = 0;
};
CpuUsage usage_between(const CpuSnapshot& a, const CpuSnapshot& b) noexcept;

}  // namespace relay::bench
