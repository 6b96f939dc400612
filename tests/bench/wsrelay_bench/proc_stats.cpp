// SPDX-License-Identifier: MIT
// /proc readers for the load generator (proc_stats.h). Plain reads of small text files.
#include "proc_stats.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/clock.h"

namespace relay::bench {
namespace {

// Reads a small /proc file into buf (NUL-terminated); false when it cannot.
bool read_small_file(const char* path, char* buf, size_t cap) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

double ticks_per_second() noexcept {
  static const double hz = double(sysconf(_SC_CLK_TCK));
  return hz;
}

}  // namespace

double process_cpu_seconds(pid_t pid) noexcept {
  if (pid <= 0) return -1;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
  char buf[1024];
  if (!read_small_file(path, buf, sizeof buf)) return -1;
  // Field 2 (comm) may hold spaces and parentheses: fields resume after the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return -1;
  p += 2;  // ") " -> field 3 (state)
  // Fields 3..13 are skipped; 14 is utime, 15 stime (proc(5)).
  for (int field = 3; field < 14; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return -1;
    ++p;
  }
  char* end = nullptr;
  unsigned long long utime = std::strtoull(p, &end, 10);
  unsigned long long stime = std::strtoull(end, nullptr, 10);
  return double(utime + stime) / ticks_per_second();
}

int64_t process_rss_kb(pid_t pid) noexcept {
  if (pid <= 0) return -1;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", int(pid));
  char buf[4096];
  if (!read_small_file(path, buf, sizeof buf)) return -1;
  const char* p = std::strstr(buf, "\nVmRSS:");
  if (!p) return -1;
  return std::strtoll(p + 7, nullptr, 10);
}

int64_t socket_slab_bytes() noexcept {
  FILE* f = std::fopen("/proc/slabinfo", "re");
  if (!f) return -1;
  char line[512];
  int64_t total = 0;
  while (std::fgets(line, sizeof line, f)) {
    char name[64];
    long long active = 0, objs = 0, size = 0;
    if (std::sscanf(line, "%63s %lld %lld %lld", name, &active, &objs, &size) != 4) continue;
    const std::string_view n = name;
    if (n == "TCP" || n == "sock_inode_cache" || n == "filp" || n == "eventpoll_epi")
      total += active * size;
  }
  std::fclose(f);
  return total;
}

double self_cpu_seconds() noexcept {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

MachineCpu machine_cpu() noexcept {
  MachineCpu m;
  char buf[512];
  if (!read_small_file("/proc/stat", buf, sizeof buf) || std::strncmp(buf, "cpu ", 4) != 0)
    return m;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  unsigned long long v[8] = {};
  std::sscanf(buf + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
              &v[5], &v[6], &v[7]);
  const double hz = ticks_per_second();
  m.busy = double(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
  m.softirq = double(v[5] + v[6]) / hz;
  m.idle = double(v[3] + v[4]) / hz;
  m.steal = double(v[7]) / hz;
  return m;
}

CpuSnapshot take_snapshot(pid_t relay_pid) noexcept {
  CpuSnapshot s;
  s.wall_ns = monotonic_ns();
  s.relay = process_cpu_seconds(relay_pid);
  s.self = self_cpu_seconds();
  s.machine = machine_cpu();
  return s;
}

CpuUsage usage_between(const CpuSnapshot& a, const CpuSnapshot& b) noexcept {
  CpuUsage u;
  u.wall_s = double(b.wall_ns - a.wall_ns) * 1e-9;
  u.relay_s = (a.relay < 0 || b.relay < 0) ? -1 : b.relay - a.relay;
  u.bench_s = b.self - a.self;
  u.busy_s = b.machine.busy - a.machine.busy;
  u.softirq_s = b.machine.softirq - a.machine.softirq;
  u.steal_s = b.machine.steal - a.machine.steal;
  u.other_s = u.busy_s - u.bench_s - (u.relay_s > 0 ? u.relay_s : 0);
  if (u.other_s < 0) u.other_s = 0;
  return u;
}

}  // namespace relay::bench
