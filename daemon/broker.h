// SPDX-License-Identifier: MIT
// Broker: the seam every publish goes through (as Centrifugo's Broker and Socket.IO's
// adapters). The sessions call publish() and never deliver themselves; the broker hands
// each message on a channel this node listens to back to local fan-out (FanoutTarget).
// MemoryBroker (one process, today's behaviour) is one implementation; a backplane such
// as Redis is another: it subscribes the node to a channel when the channel's first
// local subscriber appears and unsubscribes when the last one leaves, and may answer a
// publish later. Nothing in the session code knows which broker runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "base/clock.h"
#include "config.h"
#include "wire.h"

namespace relay::pubsub {
class Subscriber;
}

namespace relay::daemon {

// One published message. The views are valid during publish() only: a broker that
// answers later copies what it keeps.
struct Message {
  std::string_view channel;
  std::span<const std::byte> payload;
  // The publishing local subscriber (skipped unless echo), null for an HTTP publish or
  // a message from another node.
  const pubsub::Subscriber* sender = nullptr;
  int64_t stamp_ns = 0;  // monotonic publish time, for the publish-to-write histogram
  // Position in the channel's stream; 0 = the channel keeps no history.
  uint64_t offset = 0;
  uint64_t epoch = 0;  // changes when a stream's history is lost (offsets restart)
  wire::PayloadKind kind = wire::PayloadKind::kBinary;
  bool echo = false;  // the channel's option, resolved once by the publisher
  // The channel's history options, resolved with echo (0 = no history: pays nothing).
  uint32_t history_size = 0;
  uint32_t history_ttl_s = 0;
};

struct PublishResult {
  bool accepted = true;  // false: the broker refused or lost it (e.g. backplane down)
  size_t delivered = 0;  // deliveries the broker knows of (MemoryBroker: local ones)
  uint64_t offset = 0;   // the message's offset when the broker keeps history
};

// A message published now; echo is the channel's option, looked up once per publish.
inline Message make_message(std::string_view channel, wire::PayloadKind kind,
                            std::span<const std::byte> payload, const pubsub::Subscriber* sender,
                            bool echo) noexcept {
  Message m;
  m.channel = channel;
  m.payload = payload;
  m.sender = sender;
  m.stamp_ns = monotonic_ns();
  m.kind = kind;
  m.echo = echo;
  return m;
}

// The same with every per-channel option the broker needs (echo, history).
inline Message make_message(std::string_view channel, wire::PayloadKind kind,
                            std::span<const std::byte> payload, const pubsub::Subscriber* sender,
                            const ChannelOptions& opts) noexcept {
  Message m = make_message(channel, kind, payload, sender, opts.echo);
  m.history_size = opts.history_size;
  m.history_ttl_s = opts.history_ttl;
  return m;
}

// Called exactly once per publish(), in the same turn or later. A session that may be
// gone by then guards itself (Client::publishes_in_flight keeps it allocated).
using PublishDone = std::function<void(const PublishResult&)>;

// Where a broker hands messages for local subscribers: local fan-out. Returns deliveries.
class FanoutTarget {
 public:
  virtual size_t fan_out(const Message& m) noexcept = 0;
  // A backplane lost messages of `channel` that this node's subscribers of it did not get
  // (its stream was trimmed or its epoch changed while they waited): they are told, with
  // `reason` ("offset_too_old", "epoch_changed"), never skipped silently.
  virtual void history_lost(std::string_view /*channel*/, const char* /*reason*/) noexcept {}

 protected:
  ~FanoutTarget() = default;
};

class HistoryStore;
class Presence;

class Broker {
 public:
  virtual ~Broker() = default;
  // Publishes m; done (may be empty) gets the result once the broker has accepted it.
  virtual void publish(const Message& m, PublishDone done) = 0;
  // The node's interest in a channel: called when its first local subscriber appears
  // and when its last one leaves (never twice in a row for the same channel).
  virtual void subscribe(std::string_view channel) = 0;
  virtual void unsubscribe(std::string_view channel) = 0;
  // The channels' history (README "History and recovery"), read in the turn a client
  // subscribes so the replay and live traffic meet without gap or duplicate; null when the
  // broker keeps none. A backplane broker would answer reads from its own store.
  virtual HistoryStore* history() noexcept { return nullptr; }
  // Whether this node has pattern subscribers (called on each change): a backplane then
  // needs every channel's messages (LocalFanout matches the patterns).
  virtual void patterns(bool /*wanted*/) {}
  // The server's presence: a backplane keeps it across nodes (Presence::use_backplane).
  virtual void attach_presence(Presence& /*presence*/) {}
  // False while a backplane is unreachable (publishes fail; /readyz answers 503).
  virtual bool up() const noexcept { return true; }
};

}  // namespace relay::daemon
