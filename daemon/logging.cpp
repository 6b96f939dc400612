// SPDX-License-Identifier: MIT
// Logging set-up and the log rate limiter (see logging.h).
#include "logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace relay::daemon {
namespace {

constexpr std::string_view kOverflowKey = "(other)";

// "%*" -> "<N>", the syslog priority journald reads from the start of a stderr line.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    int prio = 6;  // LOG_INFO
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prio = 7;
        break;
      case spdlog::level::info:
        prio = 6;
        break;
      case spdlog::level::warn:
        prio = 4;
        break;
      case spdlog::level::err:
        prio = 3;
        break;
      case spdlog::level::critical:
        prio = 2;
        break;
      default:
        break;
    }
    const char text[4] = {'<', static_cast<char>('0' + prio), '>', '\0'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

bool parse_level(std::string_view name, spdlog::level::level_enum* out) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off}};
  for (const auto& [n, l] : kLevels) {
    if (n == name) {
      *out = l;
      return true;
    }
  }
  return false;
}

}  // namespace

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void init_logging(std::string_view level) {
  auto logger = std::make_shared<spdlog::logger>("wsrelay",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (stderr_is_journal()) {
    formatter->add_flag<SyslogPriorityFlag>('*').set_pattern(
        "%*%v");  // journald adds time and unit
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l wsrelay: %v");
  }
  logger->set_formatter(std::move(formatter));
  spdlog::level::level_enum l = spdlog::level::info;
  parse_level(level, &l);
  logger->set_level(l);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

bool set_log_level(std::string_view level) {
  spdlog::level::level_enum l;
  if (!parse_level(level, &l)) return false;
  spdlog::set_level(l);
  return true;
}

LogRateLimiter::LogRateLimiter(uint32_t per_window, int64_t window_ms, size_t max_keys)
    : per_window_(per_window),
      window_ms_(window_ms > 0 ? window_ms : 1),
      max_keys_(max_keys > 0 ? max_keys : 1) {}

LogRateLimiter::Entry& LogRateLimiter::entry_for(std::string_view key, int64_t now_ms) {
  if (auto it = keys_.find(std::string(key)); it != keys_.end()) return it->second;
  if (keys_.size() >= max_keys_) {
    // Make room by forgetting keys that are idle and owe no report; else share the overflow key.
    std::erase_if(keys_, [&](const auto& kv) {
      return kv.second.suppressed == 0 && now_ms - kv.second.window_start >= window_ms_;
    });
    if (keys_.size() >= max_keys_) {
      if (auto it = keys_.find(std::string(kOverflowKey)); it != keys_.end()) return it->second;
      key = kOverflowKey;  // may exceed max_keys_ by this one entry
    }
  }
  Entry& e = keys_[std::string(key)];
  e.window_start = now_ms;
  return e;
}

LogRateLimiter::Decision LogRateLimiter::check(std::string_view key, int64_t now_ms) {
  Entry& e = entry_for(key, now_ms);
  if (now_ms - e.window_start >= window_ms_) {
    e.window_start = now_ms;
    e.count = 0;
  }
  Decision d;
  if (e.count < per_window_) {
    ++e.count;
    d.log = true;
    d.suppressed = e.suppressed;
    e.suppressed = 0;
  } else {
    ++e.suppressed;
  }
  return d;
}

void LogRateLimiter::flush(int64_t now_ms,
                           const std::function<void(std::string_view, uint64_t)>& report) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    Entry& e = it->second;
    const bool window_over = now_ms - e.window_start >= window_ms_;
    if (window_over && e.suppressed > 0) {
      report(it->first, e.suppressed);
      e.suppressed = 0;
    }
    if (window_over && e.suppressed == 0)
      it = keys_.erase(it);
    else
      ++it;
  }
}

void log_suppressed(LogRateLimiter& limiter, int64_t now_ms) {
  limiter.flush(now_ms, [](std::string_view key, uint64_t n) {
    spdlog::warn("suppressed {} similar messages ({})", n, key);
  });
}

}  // namespace relay::daemon
