// SPDX-License-Identifier: MIT
// WebSocket clients: engine events, handed to the connection's mode (raw_relay.cpp,
// json_protocol.cpp); the start and end of the phase.
#include <spdlog/spdlog.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "pubsub/channel_name.h"
#include "server.h"

namespace relay::daemon {

ws::Limits Server::ws_limits_for(std::string_view channel) const noexcept {
  ws::Limits l;
  l.max_message_bytes = config_.limits.max_message_bytes;
  if (!channel.empty()) {
    const ChannelOptions& opts = config_.options_for(channel);
    if (opts.max_message_bytes) l.max_message_bytes = opts.max_message_bytes;
  }
  l.max_fragments = config_.limits.max_fragments;
  return l;
}

void Server::process_ws_events(Client* c) noexcept {
  while (c->phase == ClientPhase::kWebSocket || c->phase == ClientPhase::kClosing) {
    // This turn's budget spent: the rest waits for before-sleep (fair_turns.cpp).
    if (c->phase == ClientPhase::kWebSocket && !turn_budget_left(c)) {
      if (c->ws->proto.has_pending_output()) mark_pending(c);
      if (c->ws->proto.has_buffered_input()) hold_input(c);
      return;
    }
    ws::Event ev = c->ws->proto.poll_event();
    switch (ev.kind) {
      case ws::EventKind::kNeedMore:
        if (c->ws->proto.has_pending_output()) mark_pending(c);
        return;
      case ws::EventKind::kMessage:
        if (c->phase != ClientPhase::kWebSocket) break;  // closing: input is discarded
        ++stats_.messages_received;
        stats_.bytes_received += ev.payload.size();
        {
          const uint64_t delivered_before = stats_.messages_delivered;
          if (c->ws->mode == WsMode::kJson)
            json_protocol_.on_message(c, ev.text, ev.payload);
          else
            raw_relay_.on_message(c, ev.text, ev.payload);
          charge_message(c, stats_.messages_delivered - delivered_before, ev.payload.size());
        }
        break;
      case ws::EventKind::kPing:
      case ws::EventKind::kPong:
        break;  // pongs to pings are queued by the engine
      case ws::EventKind::kClose: {
        // RFC 6455 §5.5.1: answer a close with a close (echoing the code), then the
        // server closes the TCP connection first (§7.1.1).
        uint16_t code = ev.code ? ev.code : ws::close_code::kNoStatus;
        if (!c->close_code) c->close_code = code;
        spdlog::debug("client {}: close {} received", c->id, code);
        if (c->phase == ClientPhase::kWebSocket) begin_close(c, ev.code, {}, 1000);
        c->close_when_flushed = true;
        mark_pending(c);
        return;
      }
      case ws::EventKind::kError:
        spdlog::debug("client {}: protocol error, closing with {}", c->id, ev.code);
        c->close_code = ev.code;
        begin_close(c, ev.code, {}, 1000);
        c->close_when_flushed = true;
        mark_pending(c);
        return;
    }
  }
}

void Server::start_websocket(Client* c) noexcept {
  c->phase = ClientPhase::kWebSocket;
  c->last_input_ms = now_ms();
  arm_no_later(c, c->last_input_ms + config_.limits.ping_interval_ms);
  note_activity(c);
  ++ws_clients_;
  mark_pending(c);
}

void Server::leave_all_channels(Client* c) noexcept {
  presence_.leave_all(*c);
  fanout_.unsubscribe_all(c->ws->mode, c->ws->subscriber);
}

}  // namespace relay::daemon
