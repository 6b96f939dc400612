// SPDX-License-Identifier: MIT
// Logging: spdlog to stderr, which journald captures under systemd. lib/ never logs
// (STYLE.md §1); the daemon logs connection events at debug, never one line per message at
// info, and passes repeated errors through a LogRateLimiter.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"

namespace relay::daemon {

// Installs the default spdlog logger ("wsrelay", stderr) at `level` (a config log_level name;
// an unknown name means "info"). When stderr is the journal (JOURNAL_STREAM), lines carry a
// "<N>" syslog priority prefix for journald and no timestamp; otherwise a timestamp and level.
void init_logging(std::string_view level);
// Changes the level of the default logger (SIGHUP). False, and no change, for an unknown name.
bool set_log_level(std::string_view level);
// True when JOURNAL_STREAM names the device:inode of our stderr (systemd.exec(5)).
bool stderr_is_journal();

// At most `per_window` messages per key per window; the rest are counted, and the count is
// handed back with the next message that gets through ("suppressed K similar messages").
// Keys are short fixed strings ("accept", "tls-handshake"), not per-client text; at most
// `max_keys` are tracked, later ones share one overflow key. Single-threaded.
class LogRateLimiter {
 public:
  struct Decision {
    bool log = false;         // write this message
    uint64_t suppressed = 0;  // messages of this key dropped since the last one written
  };
  explicit LogRateLimiter(uint32_t per_window = 5, int64_t window_ms = 1000, size_t max_keys = 256);

  Decision check(std::string_view key, int64_t now_ms);
  // Reports (key, count) for every key whose window is over with messages still unreported,
  // and forgets idle keys. Call it from a periodic timer so the tail of a burst is reported.
  void flush(int64_t now_ms,
             const std::function<void(std::string_view key, uint64_t count)>& report);
  size_t tracked_keys() const noexcept { return keys_.size(); }

 private:
  struct Entry {
    int64_t window_start = 0;  // ms, monotonic
    uint32_t count = 0;        // messages seen in this window
    uint64_t suppressed = 0;   // dropped and not yet reported
  };
  Entry& entry_for(std::string_view key, int64_t now_ms);

  uint32_t per_window_;
  int64_t window_ms_;
  size_t max_keys_;
  std::unordered_map<std::string, Entry> keys_;
};

// Logs a message at `lvl` if `limiter` lets key through, adding the suppressed count.
template <typename... Args>
void log_limited(LogRateLimiter& limiter, spdlog::level::level_enum lvl, std::string_view key,
                 spdlog::format_string_t<Args...> fmt, Args&&... args) {
  if (!spdlog::should_log(lvl)) return;
  const auto d = limiter.check(key, monotonic_ms());
  if (!d.log) return;
  std::string msg = fmt::format(fmt, std::forward<Args>(args)...);
  if (d.suppressed > 0) msg += fmt::format(" (suppressed {} similar messages)", d.suppressed);
  spdlog::log(lvl, "{}", msg);
}

// flush() into the log at warn: "suppressed K similar messages (key)".
void log_suppressed(LogRateLimiter& limiter, int64_t now_ms);

}  // namespace relay::daemon
