// SPDX-License-Identifier: MIT
// Raw-channel history: the replay is queued in the turn of the upgrade, right after the
// subscription, so live messages follow it without gap or duplicate (json_history.cpp).
#include "raw_history.h"

#include <charconv>
#include <vector>

#include "base/bytes.h"
#include "base/out_queue.h"
#include "history_store.h"
#include "server.h"
#include "ws/frame.h"

namespace relay::daemon {
namespace {

std::optional<uint64_t> number(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<RawResume> parse_raw_resume(std::string_view target) {
  RawResume r;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return r;
  std::string_view rest = target.substr(q + 1);
  bool has_since = false, has_epoch = false;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (key == "history") {
      auto n = number(value);
      if (!n) return std::nullopt;
      if (r.kind == RawResume::Kind::kNone) r.kind = RawResume::Kind::kLast;
      r.count = *n;
    } else if (key == "since") {
      auto n = number(value);
      if (!n) return std::nullopt;
      r.kind = RawResume::Kind::kSince;
      r.offset = *n;
      has_since = true;
    } else if (key == "epoch") {
      r.epoch = std::string(value);
      has_epoch = true;
    }
  }
  if (has_since != has_epoch) return std::nullopt;
  return r;
}

std::string raw_history_headers(Server& server, std::string_view channel) {
  HistoryStore* history = server.broker().history();
  if (!history || server.config().options_for(channel).history_size == 0) return {};
  const StreamPosition pos = history->position(channel, true);
  return "Wsrelay-Epoch: " + epoch_text(pos.epoch) +
         "\r\nWsrelay-Offset: " + std::to_string(pos.offset) + "\r\n";
}

void replay_raw(Server& server, Client* c, const RawResume& resume) {
  if (resume.kind == RawResume::Kind::kNone || c->phase != ClientPhase::kWebSocket) return;
  const std::string& channel = c->ws->raw_channel;
  const ChannelOptions& opts = server.config().options_for(channel);
  HistoryStore* history = opts.history_size ? server.broker().history() : nullptr;
  std::vector<const StoredMessage*> found;
  HistoryStatus status = HistoryStatus::kNoHistory;
  if (resume.kind == RawResume::Kind::kLast) {
    if (history) history->last(channel, resume.count, history_now_ms(), &found);
    status = HistoryStatus::kOk;  // "up to N": none is an answer too
  } else if (history) {
    const StreamPosition top = history->position(channel, true);
    status = resume.epoch == epoch_text(top.epoch)
                 ? history->since(channel, {top.epoch, resume.offset}, opts.history_size,
                                  history_now_ms(), &found)
                 : HistoryStatus::kEpochChanged;
  }
  // A replay the client's queue cannot hold: ?history=N gets the newest that fit, a resume
  // is refused like evicted history (it would be closed as a slow consumer otherwise).
  const uint64_t limit = server.config().limits.max_queue_bytes;
  uint64_t bytes = c->queued_bytes();
  // Counted as the queue will count it: memory held, not payload bytes.
  for (const StoredMessage* m : found) bytes += OutQueue::memory_for_payload(m->payload.size());
  size_t first = 0;
  while (bytes > limit && first < found.size())
    bytes -= OutQueue::memory_for_payload(found[first++]->payload.size());
  if (first && resume.kind == RawResume::Kind::kSince) status = HistoryStatus::kOffsetTooOld;
  if (resume.kind == RawResume::Kind::kSince) ++server.stats().recoveries[size_t(status)];
  if (status != HistoryStatus::kOk) {
    server.begin_close(c, kHistoryLostCode, history_status_name(status), 1000);
    return;
  }
  for (size_t i = first; i < found.size(); ++i) {
    const StoredMessage* m = found[i];
    const ws::Opcode op =
        m->kind == wire::PayloadKind::kBinary ? ws::Opcode::kBinary : ws::Opcode::kText;
    c->deliver(ws::prepare_server_frame(op, as_bytes(m->payload)));
  }
}

}  // namespace relay::daemon
