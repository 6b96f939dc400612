// SPDX-License-Identifier: MIT
#include "process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace relay::daemon {
namespace {

// "btime" of /proc/stat: the boot time in seconds since the epoch (0 if unreadable).
double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  return 0;
}

// Entries of /proc/self/fd, not counting the one opendir() itself holds.
std::optional<double> open_fd_count() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return std::nullopt;
  double n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view line, long ticks_per_second) {
  const size_t close = line.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  // Field 3 (state) is the first after ") "; we need 14, 15, 22, 23 and 24.
  std::string rest(line.substr(close + 1));
  const char* p = rest.c_str();
  double field[25] = {};
  for (int i = 3; i <= 24; ++i) {
    while (*p == ' ') ++p;
    if (!*p) return std::nullopt;
    char* end = nullptr;
    field[i] = i == 3 ? 0 : std::strtod(p, &end);
    if (i != 3 && end == p) return std::nullopt;
    while (*p && *p != ' ') ++p;
  }
  ProcStat s;
  s.cpu_seconds = (field[14] + field[15]) / static_cast<double>(ticks_per_second);
  s.start_ticks = field[22];
  s.virtual_bytes = field[23];
  s.resident_pages = field[24];
  return s;
}

ProcessMetrics::ProcessMetrics(prometheus::Registry& r)
    : ticks_per_second_(::sysconf(_SC_CLK_TCK)), page_bytes_(::sysconf(_SC_PAGESIZE)) {
  auto gauge = [&r](const char* name, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  cpu_seconds_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("Total user and system CPU time spent in seconds.")
                      .Register(r)
                      .Add({});
  resident_bytes_ = &gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  virtual_bytes_ = &gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  open_fds_ = &gauge("process_open_fds", "Number of open file descriptors.");
  max_fds_ = &gauge("process_max_fds", "Maximum number of open file descriptors.");
  start_time_ = &gauge("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.");
  refresh();
}

void ProcessMetrics::refresh() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (std::getline(in, line)) {
    if (const auto s = parse_proc_stat(line, ticks_per_second_)) {
      if (s->cpu_seconds > cpu_reported_) {
        cpu_seconds_->Increment(s->cpu_seconds - cpu_reported_);
        cpu_reported_ = s->cpu_seconds;
      }
      resident_bytes_->Set(s->resident_pages * static_cast<double>(page_bytes_));
      virtual_bytes_->Set(s->virtual_bytes);
      if (start_time_->Value() == 0)  // fixed for the process's life: computed once
        start_time_->Set(boot_time_seconds() +
                         s->start_ticks / static_cast<double>(ticks_per_second_));
    }
  }
  if (const auto n = open_fd_count()) open_fds_->Set(*n);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0)
    max_fds_->Set(lim.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(lim.rlim_cur));
}

}  // namespace relay::daemon
