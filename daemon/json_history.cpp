// SPDX-License-Identifier: MIT
// History, recovery and presence on /ws (README "History and recovery", "Presence").
// The event loop is single-threaded and MemoryBroker publishes synchronously, so the
// subscription, the stream position read for the ack and the replay queued behind the ack
// happen in one turn: no publish can fall between them, and the first live delivery is the
// offset right after the ack's. No gap and no duplicate at the seam by construction.
#include <vector>

#include "base/bytes.h"
#include "base/out_queue.h"
#include "history_store.h"
#include "json_protocol.h"
#include "server.h"

namespace relay::daemon {
namespace {

std::string_view id_or_null(std::string_view id_json) { return id_json.empty() ? "null" : id_json; }

// {"id":…,"ok":true,"epoch":"…","offset":N   (the caller closes it)
std::string position_ack(std::string_view id_json, StreamPosition pos) {
  std::string out = "{\"id\":";
  out.append(id_or_null(id_json)).append(",\"ok\":true,\"epoch\":\"").append(epoch_text(pos.epoch));
  out.append("\",\"offset\":").append(std::to_string(pos.offset));
  return out;
}

std::string not_recovered(std::string out, HistoryStatus why) {
  out.append(",\"recovered\":false,\"reason\":\"").append(history_status_name(why)).append("\"}");
  return out;
}

}  // namespace

void JsonProtocol::after_subscribe(Client* c, const wire::Request& req,
                                   const ChannelOptions& opts) noexcept {
  if (opts.presence) server_.presence().join(req.channel, *c, req.presence_events);
  HistoryStore* history = opts.history_size ? server_.broker().history() : nullptr;
  auto& recoveries = server_.stats().recoveries;
  if (!history) {
    if (req.recover) {
      ++recoveries[size_t(HistoryStatus::kNoHistory)];
      std::string ack = "{\"id\":";
      ack.append(id_or_null(req.id_json)).append(",\"ok\":true");
      send_text(c, not_recovered(std::move(ack), HistoryStatus::kNoHistory));
    } else if (!req.id_json.empty()) {
      send_text(c, wire::encode_ack(req.id_json));
    }
    return;
  }
  const StreamPosition top = history->position(req.channel, true);
  std::string ack = position_ack(req.id_json, top);
  if (!req.recover) {
    if (!req.id_json.empty()) send_text(c, ack + "}");
    return;
  }
  std::vector<const StoredMessage*> missed;
  HistoryStatus status = HistoryStatus::kEpochChanged;
  if (req.recover->epoch == epoch_text(top.epoch))
    status = history->since(req.channel, {top.epoch, req.recover->offset}, opts.history_size,
                            history_now_ms(), &missed);
  // The replay is encoded before anything is sent: one larger than the client's queue
  // limit would close it as a slow consumer, so it is refused like evicted history.
  std::vector<std::string> replay;
  if (status == HistoryStatus::kOk) {
    replay.reserve(missed.size());
    uint64_t bytes = c->queued_bytes();
    for (const StoredMessage* m : missed) {
      replay.push_back(
          wire::encode_delivery(req.channel, m->kind, as_bytes(m->payload), m->offset));
      bytes += OutQueue::memory_for_payload(replay.back().size());  // as the queue counts it
    }
    if (bytes > server_.config().limits.max_queue_bytes) status = HistoryStatus::kOffsetTooOld;
  }
  ++recoveries[size_t(status)];
  if (status != HistoryStatus::kOk) return send_text(c, not_recovered(std::move(ack), status));
  ack.append(",\"recovered\":true,\"replayed\":").append(std::to_string(replay.size()));
  send_text(c, ack + "}");
  for (const std::string& text : replay) send_text(c, text);
}

void JsonProtocol::on_history(Client* c, const wire::Request& req,
                              const ChannelOptions& opts) noexcept {
  HistoryStore* history = opts.history_size ? server_.broker().history() : nullptr;
  auto gone = [&](HistoryStatus why) {
    send_text(c, wire::encode_error(req.id_json, wire::code::kGone, history_status_name(why)));
  };
  if (!history) return gone(HistoryStatus::kNoHistory);
  const StreamPosition top = history->position(req.channel, false);
  const size_t limit = req.limit ? req.limit : wire::kMaxHistoryLimit;
  std::vector<const StoredMessage*> found;
  if (req.since) {
    if (req.since->epoch != epoch_text(top.epoch)) return gone(HistoryStatus::kEpochChanged);
    HistoryStatus status = history->since(req.channel, {top.epoch, req.since->offset}, limit,
                                          history_now_ms(), &found);
    if (status != HistoryStatus::kOk) return gone(status);
  } else {
    history->last(req.channel, limit, history_now_ms(), &found);
  }
  // One answer stays under half the queue limit: `since` keeps the oldest (ask again from
  // the last offset), `limit` alone the newest.
  const uint64_t budget = server_.config().limits.max_queue_bytes / 2;
  std::vector<std::string> entries;
  uint64_t bytes = 0;
  const bool newest_first = !req.since;
  for (size_t k = 0; k < found.size(); ++k) {
    const StoredMessage* m = found[newest_first ? found.size() - 1 - k : k];
    std::string e = "{\"offset\":" + std::to_string(m->offset) + ",";
    wire::append_payload_member(&e, m->kind, as_bytes(m->payload));
    e.append("}");
    bytes += e.size() + 1;
    if (bytes > budget) break;
    entries.push_back(std::move(e));
  }
  std::string out = position_ack(req.id_json, top);
  out.append(",\"publications\":[");
  for (size_t k = 0; k < entries.size(); ++k) {
    if (k) out.append(",");
    out.append(entries[newest_first ? entries.size() - 1 - k : k]);
  }
  out.append("]}");
  send_text(c, out);
}

void JsonProtocol::on_presence(Client* c, const wire::Request& req,
                               const ChannelOptions& opts) noexcept {
  if (!opts.presence)
    return send_text(c, wire::encode_error(req.id_json, wire::code::kForbidden,
                                           "presence is not enabled on this channel"));
  send_text(c, server_.presence().encode_answer(req.id_json, req.channel));
}

}  // namespace relay::daemon
