// SPDX-License-Identifier: MIT
// The standard process_* metrics every Prometheus exporter offers (client guidelines: CPU,
// memory, file descriptors, start time). prometheus-cpp 1.0 in Debian has no process
// collector, so they are read from /proc here, only when /metrics is scraped.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <optional>
#include <string_view>

namespace relay::daemon {

// What /proc/self/stat says about us (fields 14, 15, 22, 23, 24 of proc(5)).
struct ProcStat {
  double cpu_seconds = 0;     // utime + stime
  double start_ticks = 0;     // since boot, in clock ticks
  double virtual_bytes = 0;   // vsize
  double resident_pages = 0;  // rss
};

// Parses the one line of /proc/<pid>/stat; nullopt if it is not one. The command name (field
// 2) is in parentheses and may hold spaces and ')': fields are counted after the last ')'.
std::optional<ProcStat> parse_proc_stat(std::string_view line, long ticks_per_second);

class ProcessMetrics {
 public:
  explicit ProcessMetrics(prometheus::Registry& r);
  // Reads /proc/self/stat, counts /proc/self/fd and sets the families. Errors leave the
  // previous values (a scrape must not fail for this).
  void refresh();

 private:
  prometheus::Counter* cpu_seconds_ = nullptr;
  prometheus::Gauge* resident_bytes_ = nullptr;
  prometheus::Gauge* virtual_bytes_ = nullptr;
  prometheus::Gauge* open_fds_ = nullptr;
  prometheus::Gauge* max_fds_ = nullptr;
  prometheus::Gauge* start_time_ = nullptr;
  double cpu_reported_ = 0;  // counters only go up: we add what the kernel added since
  long ticks_per_second_;
  long page_bytes_;
};

}  // namespace relay::daemon
