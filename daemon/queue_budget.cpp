// SPDX-License-Identifier: MIT
// The global queue budget: the machine's default, and the server's side of it (keeping
// each client's share, closing the largest queues when the total is over).
#include "queue_budget.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "server.h"

namespace relay::daemon {
namespace {

// Memory assumed when nothing can be read (a budget of 1 GiB); never 0, which would evict all.
constexpr uint64_t kFallbackMemory = 4ull << 30;

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

uint64_t parse_u64(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p != s.data() ? v : 0;
}

// "MemTotal:       16314456 kB" -> bytes (0 if absent).
uint64_t mem_total(std::string_view meminfo) {
  const size_t at = meminfo.find("MemTotal:");
  if (at == std::string_view::npos) return 0;
  return parse_u64(meminfo.substr(at + 9)) * 1024;
}

// The cgroup v2 path of this process ("0::/system.slice/wsrelay.service").
std::string cgroup_path() {
  std::string text = read_text("/proc/self/cgroup");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return {};
}

}  // namespace

uint64_t queue_budget_default(std::string_view cgroup_memory_max, std::string_view meminfo) {
  uint64_t memory = parse_u64(cgroup_memory_max);  // "max\n" (no limit) parses as 0
  const uint64_t total = mem_total(meminfo);
  if (memory == 0 || (total && memory > total)) memory = total;
  if (memory == 0) memory = kFallbackMemory;
  return memory / 4;
}

uint64_t queue_budget_default() {
  const std::string cgroup = cgroup_path();
  std::string max;
  if (!cgroup.empty()) max = read_text("/sys/fs/cgroup" + cgroup + "/memory.max");
  return queue_budget_default(max, read_text("/proc/meminfo"));
}

QueueBudget::QueueBudget() : machine_default_(queue_budget_default()) {}

// ---- the server's side ----------------------------------------------------------------

void Server::note_queued(Client* c) noexcept {
  budget_.update(c->queue_accounted, c->own_bytes());
  if (c->phase == ClientPhase::kWebSocket && !c->slow_consumer &&
      c->queued_bytes() > config_.limits.max_queue_bytes)
    c->slow_consumer = true;  // closed at its flush, this turn
  mark_pending(c);
}

void Server::evict_largest_queues() noexcept {
  const uint64_t limit = budget_.limit(config_.limits.max_total_queue_bytes);
  evict_scratch_.clear();
  for (Client* c : clients_)
    if (c->held_bytes() && !c->slow_consumer &&
        (c->phase == ClientPhase::kWebSocket || c->phase == ClientPhase::kClosing))
      evict_scratch_.push_back(c);
  // Clients already closing go first, whatever their size: what they still hold (a partly
  // written frame that a client which does not read keeps for the whole close deadline)
  // is lost to them anyway. Then the largest queues.
  std::sort(evict_scratch_.begin(), evict_scratch_.end(), [](Client* a, Client* b) {
    const bool ac = a->phase == ClientPhase::kClosing;
    const bool bc = b->phase == ClientPhase::kClosing;
    return ac != bc ? ac : a->held_bytes() > b->held_bytes();
  });
  // A close frees at most what the client holds (less when others share its frames): the
  // total is read again next turn, and more clients go if it is still over.
  uint64_t total = budget_.total();
  for (Client* c : evict_scratch_) {
    if (total <= limit) break;
    total -= std::min<uint64_t>(total, c->held_bytes());
    if (c->phase == ClientPhase::kClosing) {
      close_now(c);  // its close frame is stuck behind what it does not read
    } else {
      ++stats_.queue_evictions;  // a client is counted once, not again at its reset
      c->slow_consumer = true;   // closed (4008) at its flush later in this turn, where its
      mark_pending(c);           // unstarted frames are dropped: counted as freed now
    }
  }
  if (total > limit)
    log_limited(log_limiter_, spdlog::level::warn, "queue-budget",
                "queues hold {} bytes, over max_total_queue_bytes {} after evictions",
                budget_.total(), limit);
  else
    log_limited(log_limiter_, spdlog::level::info, "queue-budget",
                "queues held {} bytes, over max_total_queue_bytes {}: largest closed",
                budget_.total(), limit);
  evict_scratch_.clear();
}

}  // namespace relay::daemon
