// SPDX-License-Identifier: MIT
// Load: the load generator's connections on one epoll reactor (lib/net), and the
// bookkeeping that checks every delivery. WebSocket clients run the engine's client
// side (ws::Protocol, Role::kClient) for input; their own messages are encoded with the
// engine's frame codec straight into a per-connection byte buffer, so publishing and
// receiving allocate nothing per message (buffers only grow to their high-water mark).
//
// Model: channels, each with a contiguous range of publisher ids and some subscribers.
// A publisher is a WebSocket connection on the channel's raw-relay path (the relay
// subscribes it too, and must not echo to it) or an HTTP keep-alive connection that
// POSTs to the channel. Each subscriber keeps, per publisher of its channel, a bitmap
// of the sequence numbers it got, which counts duplicates, reorders and (at the end)
// losses exactly. Each message counts its receivers; when the count reaches the
// channel's subscriber count, "the last subscriber has it" and the message completes.
//
// Usage (scenarios.cpp):
//   Load load(opts);
//   int ch = load.add_channel("f1", 1);
//   load.add_ws_publisher(ch); for (...) load.add_subscriber(ch);
//   if (!load.connect_all()) ...
//   load.set_on_turn(...);               // publish from the before-sleep hook
//   load.run_until([&] { ... }, ms);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_buffer.h"
#include "histogram.h"
#include "net/reactor.h"
#include "net/socket.h"
#include "options.h"
#include "payload.h"
#include "ws/handshake.h"
#include "ws/protocol.h"

namespace relay::bench {

class Load;

enum class ConnKind : uint8_t { kWebSocket, kHttp };
enum class ConnState : uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosed };

// One client connection. WebSocket connections have `proto`; HTTP ones do not.
struct Conn {
  Conn(Load* l, ConnKind k, uint32_t ch) : load(l), kind(k), channel(ch) {}
  Load* load;
  ConnKind kind;
  ConnState state = ConnState::kIdle;
  uint32_t channel;
  int32_t sub = -1;  // index into Load::subs_, or -1
  int32_t pub = -1;  // publisher id, or -1
  int fd = -1;
  bool want_write = false;  // kWritable interest is on
  bool dirty = false;       // listed in Load::dirty_
  int64_t connect_ns = 0;
  char key[ws::kKeyChars + 1] = {};
  ByteBuffer in;                        // HTTP bytes (handshake response, or HTTP publish answers)
  ByteBuffer out;                       // bytes to write
  std::unique_ptr<ws::Protocol> proto;  // after the upgrade
  uint32_t outstanding = 0;             // HTTP: requests without an answer yet
};

// What one subscriber has seen from one publisher.
struct Stream {
  uint32_t next = 0;           // highest sequence number seen + 1
  uint64_t distinct = 0;       // messages received at least once
  std::vector<uint64_t> seen;  // bitmap by sequence number
};

struct Subscriber {
  uint32_t channel;
  std::vector<Stream> streams;  // one per publisher of the channel
};

struct Publisher {
  uint32_t channel;
  Conn* conn = nullptr;
  uint32_t next_seq = 0;
  uint32_t measure_from = UINT32_MAX;  // first sequence number of the measured phase
  uint64_t completed = 0;              // messages every subscriber has
  std::vector<uint32_t> receivers;     // by sequence number: subscribers that have it
  uint32_t in_flight() const noexcept { return next_seq - uint32_t(completed); }
};

struct Channel {
  std::string name;
  uint32_t pub_base = 0;
  uint32_t pub_count = 0;
  uint32_t subscribers = 0;
  std::string http_head[2];  // HTTP publish request heads: [binary], [text]
};

// Everything a run counts. Deliveries and histograms cover the measured phase; the
// error counters cover the whole run.
struct Counters {
  uint64_t deliveries = 0;           // every delivery, warm-up included
  uint64_t measured_deliveries = 0;  // deliveries of measured messages
  uint64_t measured_messages = 0;    // measured messages published
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t retyped = 0;
  uint64_t corrupt = 0;      // not a payload this run sent (bytes, size or sequence)
  uint64_t misrouted = 0;    // from a publisher of another channel, or to a publisher
  uint64_t disconnects = 0;  // connections that ended during the run
  uint64_t connect_failures = 0;
  uint64_t http_responses = 0;      // HTTP publish answers (measured phase)
  uint64_t http_bad_responses = 0;  // not 200 {"delivered": subscribers}
  uint64_t wire_bytes_in = 0;       // WebSocket bytes read after the upgrades (whole run)
};

class Load {
 public:
  explicit Load(const Options& opts);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Setup: channels first, then their publishers and subscribers.
  uint32_t add_channel(std::string name, uint32_t publishers);
  void add_ws_publisher(uint32_t channel);
  void add_http_publisher(uint32_t channel);
  void add_subscriber(uint32_t channel);
  // Connects (and upgrades) every connection not yet open, at most
  // opts.concurrency at a time. False on a failure or after opts.setup_timeout_s.
  bool connect_all();
  // Reactor turns until pred() is true (true) or timeout_ms passed (false).
  bool run_until(const std::function<bool()>& pred, int64_t timeout_ms);
  void run_for(int64_t ms) {
    (void)run_until([] { return false; }, ms);
  }
  // Runs f in every before-sleep hook, before the writes are flushed.
  void set_on_turn(std::function<void()> f) { on_turn_ = std::move(f); }
  // Longest poll wait of run_until() (default 10 ms; 1 for paced publishing).
  void set_max_wait_ms(int ms) noexcept { max_wait_ms_ = ms; }

  // Queues the next message of publisher `id`, stamped `now_ns` (flushed at the end of
  // the turn). HTTP publishers send one POST each.
  void publish(uint32_t id, int64_t now_ns);
  // From now on, messages published are measured (latency, deliveries).
  void start_measure();
  // True when every message published has reached all its subscribers.
  bool all_completed() const noexcept;
  uint64_t in_flight_http() const noexcept;  // HTTP requests without an answer

  // Losses: for each subscriber and publisher of its channel, messages sent but never
  // received. Call once the run is drained.
  uint64_t count_lost() const noexcept;
  uint64_t published() const noexcept;
  void close_all() noexcept;  // RST every connection (no TIME_WAIT left behind)

  const Options& opts() const noexcept { return opts_; }
  Counters& counters() noexcept { return counters_; }
  Histogram& latency() noexcept { return latency_; }      // per measured delivery
  Histogram& last_latency() noexcept { return last_; }    // per measured message
  Histogram& handshake() noexcept { return handshake_; }  // connect to 101
  Publisher& publisher(uint32_t id) noexcept { return pubs_[id]; }
  size_t publishers() const noexcept { return pubs_.size(); }
  const std::vector<std::unique_ptr<Conn>>& conns() const noexcept { return conns_; }
  size_t open_connections() const noexcept { return open_; }
  std::string error;  // why connect_all() failed

 private:
  static void on_io(int fd, uint32_t events, void* data) noexcept;
  static void on_before_sleep(void* data) noexcept;
  void start_connect(Conn* c) noexcept;
  void start_more_connects() noexcept;
  void connect_done(Conn* c, bool ok) noexcept;
  void on_connected(Conn* c) noexcept;
  void read_handshake(Conn* c) noexcept;
  void read_frames(Conn* c) noexcept;
  void read_http(Conn* c) noexcept;
  void on_message(Conn* c, bool text, std::span<const std::byte> payload, int64_t now) noexcept;
  void take_protocol_output(Conn* c);
  void mark_dirty(Conn* c) noexcept;
  void flush(Conn* c) noexcept;
  void set_writable(Conn* c, bool on) noexcept;
  void drop(Conn* c) noexcept;  // the connection ended under us

  Options opts_;
  net::SocketAddress addr_;
  std::string host_;  // Host header
  std::unique_ptr<net::Reactor> reactor_;
  std::vector<Channel> channels_;
  std::vector<Publisher> pubs_;
  std::vector<Subscriber> subs_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> dirty_;
  std::function<void()> on_turn_;
  std::vector<Conn*> to_connect_;
  size_t next_connect_ = 0;
  size_t connecting_ = 0;
  size_t open_ = 0;
  int max_wait_ms_ = 10;
  bool setup_failed_ = false;
  std::vector<char> scratch_;  // one payload
  Counters counters_;
  Histogram latency_;
  Histogram last_;
  Histogram handshake_;
};

}  // namespace relay::bench
