// SPDX-License-Identifier: MIT
// The five scenarios of README "Performance", each printing one JSON line:
//   F1 fan-out      1 channel, N subscribers, 1 publisher, closed loop of W messages in
//                   flight (a message leaves the window when the last subscriber has it)
//   F2 many         C channels x N subscribers, one publisher each, fixed total rate
//   F3 wide         1 channel, 10,000 subscribers, 10 msg/s: time until the last has it
//   C1 idle         N idle connections: relay RSS per connection, connects/s, handshakes
//   H1 HTTP publish POST /channels/{name} as fast as the relay answers, N subscribers
//   I1 idle readers 1 channel, 2,000 connections that never read, a few that do, one
//                   publisher at a fixed rate (10 MiB/s): the good ones' latency and
//                   delivered fraction, the relay's RSS and the kernel's TCP memory peaks
// Every scenario reports the relay's CPU time (/proc/PID/stat) per delivery and counts
// lost, duplicated, reordered, re-typed, corrupt and misrouted messages.
#include "scenarios.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "base/clock.h"
#include "idle_readers.h"
#include "json_line.h"
#include "load.h"
#include "proc_stats.h"

namespace relay::bench {
namespace {

// A machine where other processes used more than this (in cores, on average) while we
// measured is flagged: the figures are not to be trusted.
constexpr double kNoisyOtherCores = 0.10;
constexpr double kNoisyStealCores = 0.05;
constexpr int64_t kSettleMs = 100;  // after draining: late duplicates still count

struct Measured {
  CpuUsage cpu;
  bool drained = false;
};

// Runs `seconds` of publishing (pumping = true), then stops and waits until every
// message reached every subscriber (and every HTTP publish was answered).
Measured run_phase(Load& load, bool* pumping, double seconds, bool measure) {
  Measured m;
  CpuSnapshot a = take_snapshot(load.opts().relay_pid);
  if (measure) load.start_measure();
  const int64_t ms = int64_t(seconds * 1000);
  *pumping = true;
  load.run_for(ms);
  *pumping = false;
  m.drained = load.run_until([&] { return load.all_completed() && load.in_flight_http() == 0; },
                             int64_t(load.opts().drain_timeout_s * 1000));
  m.cpu = usage_between(a, take_snapshot(load.opts().relay_pid));
  return m;
}

void add_latency(JsonLine& j, std::string_view key, const Histogram& h) {
  j.begin(key)
      .num("p50", double(h.quantile(0.50)) / 1e3, 1)
      .num("p90", double(h.quantile(0.90)) / 1e3, 1)
      .num("p99", double(h.quantile(0.99)) / 1e3, 1)
      .num("max", double(h.max()) / 1e3, 1)
      .integer("count", h.count())
      .end();
}

// CPU figures and the noisy-machine flag. `units` = deliveries (or connections).
void add_cpu(JsonLine& j, const CpuUsage& u, uint64_t units, std::string_view per_key) {
  const double wall = u.wall_s > 0 ? u.wall_s : 1;
  if (u.relay_s >= 0) {
    j.num("relay_cpu_s", u.relay_s, 3);
    if (units)
      j.num(per_key, u.relay_s * 1e9 / double(units), 1);
    else
      j.null(per_key);
    j.num("relay_cpu_util", u.relay_s / wall, 3);
  } else {
    j.null("relay_cpu_s").null(per_key).null("relay_cpu_util");
  }
  const double other = u.other_s / wall;
  const double steal = u.steal_s / wall;
  j.num("bench_cpu_util", u.bench_s / wall, 3)
      .num("other_cpu_util", other, 3)
      .num("softirq_util", u.softirq_s / wall, 3)
      .num("steal_util", steal, 3)
      .boolean("noisy", other > kNoisyOtherCores || steal > kNoisyStealCores);
}

// The error counters; true when all are zero.
bool add_errors(JsonLine& j, Load& load, uint64_t lost) {
  const Counters& c = load.counters();
  j.integer("lost", lost)
      .integer("duplicated", c.duplicated)
      .integer("reordered", c.reordered)
      .integer("retyped", c.retyped)
      .integer("corrupt", c.corrupt)
      .integer("misrouted", c.misrouted)
      .integer("disconnects", c.disconnects)
      .integer("http_bad_responses", c.http_bad_responses);
  return lost + c.duplicated + c.reordered + c.retyped + c.corrupt + c.misrouted + c.disconnects +
             c.http_bad_responses ==
         0;
}

JsonLine start_line(const Options& o) {
  JsonLine j;
  j.str("scenario", o.scenario).str("relay", o.label);
  return j;
}

int print_setup_failure(const Options& o, Load& load, double setup_s) {
  JsonLine j = start_line(o);
  j.num("setup_s", setup_s, 3).integer("open", load.open_connections()).str("error", load.error);
  j.boolean("ok", false);
  std::printf("%s\n", j.finish().c_str());
  return 2;
}

// The shared body of F1, F2, F3 and H1: connect, warm up, measure, drain, report.
int run_fanout(const Options& o, Load& load, bool* pumping, JsonLine params) {
  const int64_t t0 = monotonic_ns();
  if (!load.connect_all()) return print_setup_failure(o, load, double(monotonic_ns() - t0) * 1e-9);
  const double setup_s = double(monotonic_ns() - t0) * 1e-9;
  if (o.warmup_s > 0) (void)run_phase(load, pumping, o.warmup_s, false);
  Measured m = run_phase(load, pumping, o.duration_s, true);
  load.run_for(kSettleMs);
  const Counters& c = load.counters();
  const uint64_t lost = load.count_lost();

  JsonLine r = start_line(o);
  r.json("params", params.finish())
      .num("setup_s", setup_s, 3)
      .num("duration_s", m.cpu.wall_s, 3)
      .integer("messages", c.measured_messages)
      .integer("deliveries", c.measured_deliveries)
      .num("deliveries_per_s", double(c.measured_deliveries) / m.cpu.wall_s, 0);
  if (o.scenario == "H1") {
    r.integer("publishes", c.http_responses)
        .num("publishes_per_s", double(c.http_responses) / m.cpu.wall_s, 0);
  }
  add_latency(r, "latency_us", load.latency());
  add_latency(r, "last_subscriber_us", load.last_latency());
  add_cpu(r, m.cpu, c.measured_deliveries, "relay_cpu_ns_per_delivery");
  // Bytes on the wire toward the clients (frame headers included), per delivery.
  if (c.deliveries)
    r.num("wire_bytes_per_delivery", double(c.wire_bytes_in) / double(c.deliveries), 1);
  r.boolean("deflate", o.deflate);
  r.boolean("drained", m.drained);
  const bool clean = add_errors(r, load, lost);
  r.boolean("ok", clean && m.drained);
  std::printf("%s\n", r.finish().c_str());
  std::fflush(stdout);
  return clean && m.drained ? 0 : 1;
}

int run_f1(const Options& o) {
  Load load(o);
  const uint32_t ch = load.add_channel("f1", 1);
  load.add_ws_publisher(ch);
  for (uint32_t i = 0; i < o.subscribers; ++i) load.add_subscriber(ch);
  bool pumping = false;
  load.set_on_turn([&] {
    if (!pumping) return;
    Publisher& p = load.publisher(0);
    const int64_t now = monotonic_ns();
    if (o.batch == 0) {
      while (p.in_flight() < o.window) load.publish(0, now);
      return;
    }
    // --batch B: whole batches only, so each write of the publisher carries B frames.
    while (p.in_flight() + o.batch <= o.window)
      for (uint32_t i = 0; i < o.batch; ++i) load.publish(0, now);
  });
  JsonLine params;
  params.integer("subscribers", o.subscribers)
      .integer("window", o.window)
      .integer("batch", o.batch)
      .integer("size", o.size)
      .str("type", type_mode_name(o.type));
  return run_fanout(o, load, &pumping, params);
}

// F2 and F3: `channels` channels of `subscribers` each, one publisher per channel,
// `rate` messages per second in total, message k from publisher k % channels.
int run_paced(const Options& o) {
  Load load(o);
  for (uint32_t c = 0; c < o.channels; ++c) {
    const uint32_t ch =
        load.add_channel((o.scenario == "F3" ? "f3-" : "f2-") + std::to_string(c), 1);
    load.add_ws_publisher(ch);
    for (uint32_t i = 0; i < o.subscribers; ++i) load.add_subscriber(ch);
  }
  bool pumping = false;
  bool was_pumping = false;
  int64_t start_ns = 0;
  uint64_t sent = 0;
  load.set_max_wait_ms(1);
  load.set_on_turn([&] {
    if (!pumping) {
      was_pumping = false;
      return;
    }
    const int64_t now = monotonic_ns();
    if (!was_pumping) {  // a new phase starts its schedule at 0
      was_pumping = true;
      start_ns = now;
      sent = 0;
    }
    const uint64_t due = uint64_t(double(now - start_ns) * o.rate * 1e-9) + 1;
    for (int burst = 0; sent < due && burst < 10000; ++burst, ++sent) {
      load.publish(uint32_t(sent % o.channels), now);
    }
  });
  JsonLine params;
  params.integer("channels", o.channels)
      .integer("subscribers_per_channel", o.subscribers)
      .integer("publishers", o.channels)
      .num("rate", o.rate, 0)
      .integer("size", o.size)
      .str("type", type_mode_name(o.type));
  return run_fanout(o, load, &pumping, params);
}

int run_h1(const Options& o) {
  Load load(o);
  const uint32_t ch = load.add_channel("h1", o.http_conns);
  for (uint32_t i = 0; i < o.http_conns; ++i) load.add_http_publisher(ch);
  for (uint32_t i = 0; i < o.subscribers; ++i) load.add_subscriber(ch);
  bool pumping = false;
  load.set_on_turn([&] {
    if (!pumping) return;
    const int64_t now = monotonic_ns();
    for (uint32_t id = 0; id < o.http_conns; ++id) {
      Conn* c = load.publisher(id).conn;
      while (c->state == ConnState::kOpen && c->outstanding < o.pipeline) load.publish(id, now);
    }
  });
  JsonLine params;
  params.integer("subscribers", o.subscribers)
      .integer("http_conns", o.http_conns)
      .integer("pipeline", o.pipeline)
      .integer("size", o.size)
      .str("type", type_mode_name(o.type));
  return run_fanout(o, load, &pumping, params);
}

int run_c1(const Options& o) {
  if (o.tls) return run_c1_tls(o);
  Load load(o);
  // One channel for all, or (--own-channels on) one per connection: a channel entry and
  // its membership are then part of every connection's cost.
  const uint32_t shared = o.own_channels ? 0 : load.add_channel("c1", 0);
  uint32_t made = 0;
  auto add = [&] {
    load.add_subscriber(o.own_channels ? load.add_channel("c1-" + std::to_string(made), 0)
                                       : shared);
    ++made;
  };
  // Two figures: from the RSS before the relay's first connection (issue 13's way:
  // everything a user sizing a machine pays), and from after the warm-up connections
  // (they stay open but are not counted: the first handshakes page in code and grow the
  // relay's tables once). With --warmup-conns 0 both are the same.
  const int64_t rss_start = process_rss_kb(o.relay_pid);
  const int64_t slab_start = socket_slab_bytes();
  for (uint32_t i = 0; i < o.warmup_conns; ++i) add();
  if (!load.connect_all()) return print_setup_failure(o, load, 0);
  if (o.warmup_conns) load.run_for(200);
  load.handshake().reset();
  for (uint32_t i = 0; i < o.subscribers; ++i) add();
  const int64_t rss_before = process_rss_kb(o.relay_pid);
  CpuSnapshot a = take_snapshot(o.relay_pid);
  const int64_t t0 = monotonic_ns();
  if (!load.connect_all()) return print_setup_failure(o, load, double(monotonic_ns() - t0) * 1e-9);
  const double connect_s = double(monotonic_ns() - t0) * 1e-9;
  CpuUsage cpu = usage_between(a, take_snapshot(o.relay_pid));
  // Let the relay finish with the handshakes (buffers freed) before reading its RSS.
  load.run_for(500);
  const int64_t rss_after = process_rss_kb(o.relay_pid);
  const int64_t slab_after = socket_slab_bytes();
  const uint64_t all = load.open_connections();
  const uint64_t n = all - o.warmup_conns;

  JsonLine j = start_line(o);
  j.begin("params")
      .integer("connections", o.subscribers)
      .integer("warmup_connections", o.warmup_conns)
      .integer("concurrency", o.concurrency)
      .boolean("own_channels", o.own_channels)
      .end();
  j.integer("connections", n)
      .num("connect_s", connect_s, 3)
      .num("connects_per_s", double(n) / connect_s, 0);
  add_latency(j, "handshake_us", load.handshake());
  if (rss_start >= 0 && rss_before >= 0 && rss_after >= 0) {
    j.integer("rss_start_kb", uint64_t(rss_start))
        .integer("rss_before_kb", uint64_t(rss_before))
        .integer("rss_after_kb", uint64_t(rss_after));
    j.num("rss_per_connection_bytes", double(rss_after - rss_before) * 1024.0 / double(n ? n : 1),
          0);
    j.num("rss_per_connection_from_start_bytes",
          double(rss_after - rss_start) * 1024.0 / double(all ? all : 1), 0);
  } else {
    j.null("rss_start_kb").null("rss_before_kb").null("rss_after_kb");
    j.null("rss_per_connection_bytes").null("rss_per_connection_from_start_bytes");
  }
  // The kernel's share, which RSS leaves out: socket slab objects of both ends (the load
  // generator's sockets are on this machine too), and the TCP buffer pages (sockstat).
  if (slab_start >= 0 && slab_after >= 0)
    j.num("kernel_socket_slab_per_connection_both_ends_bytes",
          double(slab_after - slab_start) / double(all ? all : 1), 0);
  else
    j.null("kernel_socket_slab_per_connection_both_ends_bytes");
  j.integer("tcp_mem_kb", uint64_t(std::max<int64_t>(0, tcp_memory_kb())));
  add_cpu(j, cpu, n, "relay_cpu_ns_per_connect");
  const bool clean = add_errors(j, load, 0) && n == o.subscribers;
  j.boolean("ok", clean);
  std::printf("%s\n", j.finish().c_str());
  std::fflush(stdout);
  if (o.hold_s > 0) load.run_for(int64_t(o.hold_s * 1000));  // e.g. to inspect the relay
  return clean ? 0 : 1;
}

// ---- I1: idle readers ----------------------------------------------------------------

// Peaks of the relay's RSS and the kernel's TCP memory, sampled every 50 ms of turns.
struct MemoryPeaks {
  int64_t rss_start_kb = -1, rss_peak_kb = -1, tcp_start_kb = -1, tcp_peak_kb = -1;
  int64_t last_ns = 0;
  void start(pid_t pid) {
    rss_start_kb = rss_peak_kb = process_rss_kb(pid);
    tcp_start_kb = tcp_peak_kb = tcp_memory_kb();
  }
  void sample(pid_t pid, int64_t now_ns) {
    if (now_ns - last_ns < 50'000'000) return;
    last_ns = now_ns;
    rss_peak_kb = std::max(rss_peak_kb, process_rss_kb(pid));
    tcp_peak_kb = std::max(tcp_peak_kb, tcp_memory_kb());
  }
};

void add_kb(JsonLine& j, std::string_view key, int64_t kb) {
  if (kb >= 0)
    j.integer(key, uint64_t(kb));
  else
    j.null(key);
}

int run_i1(const Options& o) {
  Load load(o);
  const uint32_t ch = load.add_channel("i1", 1);
  load.add_ws_publisher(ch);
  for (uint32_t i = 0; i < o.subscribers; ++i) load.add_subscriber(ch);
  const int64_t t0 = monotonic_ns();
  if (!load.connect_all()) return print_setup_failure(o, load, double(monotonic_ns() - t0) * 1e-9);
  IdleReaders idle;
  auto where = net::parse_address(o.host + ":" + std::to_string(o.port));
  if (!where ||
      !idle.open(*where, o.host + ":" + std::to_string(o.port), "/channels/i1", o.idle_readers,
                 o.idle_rcvbuf, &load.error) ||
      !load.run_until([&] { return idle.all_answered(); }, int64_t(o.setup_timeout_s * 1000))) {
    if (load.error.empty()) load.error = "idle readers not upgraded in time";
    return print_setup_failure(o, load, double(monotonic_ns() - t0) * 1e-9);
  }
  const double setup_s = double(monotonic_ns() - t0) * 1e-9;
  MemoryPeaks mem;
  mem.start(o.relay_pid);
  bool pumping = false;
  int64_t start_ns = 0;
  uint64_t sent = 0;
  load.set_max_wait_ms(1);
  load.set_on_turn([&] {
    const int64_t now = monotonic_ns();
    mem.sample(o.relay_pid, now);
    if (!pumping) return;
    if (!start_ns) start_ns = now;
    const uint64_t due = uint64_t(double(now - start_ns) * o.rate * 1e-9) + 1;
    for (; sent < due; ++sent) load.publish(0, now);
  });
  Measured m = run_phase(load, &pumping, o.duration_s, true);
  // The relay closes an idle reader once its queue is over a limit, 2 s after its 4008.
  (void)load.run_until([&] { return idle.closed() == idle.size(); }, 10000);
  const uint32_t idle_closed = idle.closed();
  const Counters& c = load.counters();
  const uint64_t lost = load.count_lost();
  const uint64_t expected = c.measured_messages * o.subscribers;

  JsonLine r = start_line(o);
  r.begin("params")
      .integer("idle_readers", o.idle_readers)
      .integer("idle_rcvbuf", uint64_t(o.idle_rcvbuf))
      .integer("subscribers", o.subscribers)
      .num("rate", o.rate, 0)
      .integer("size", o.size)
      .end();
  r.num("setup_s", setup_s, 3)
      .num("duration_s", m.cpu.wall_s, 3)
      .integer("messages", c.measured_messages)
      .integer("deliveries", c.measured_deliveries)
      .num("deliveries_per_s", double(c.measured_deliveries) / m.cpu.wall_s, 0)
      .num("delivered_fraction", expected ? double(c.measured_deliveries) / double(expected) : 0, 4)
      .integer("idle_closed", idle_closed);
  add_latency(r, "latency_us", load.latency());
  add_latency(r, "last_subscriber_us", load.last_latency());
  add_kb(r, "rss_start_kb", mem.rss_start_kb);
  add_kb(r, "rss_peak_kb", mem.rss_peak_kb);
  add_kb(r, "tcp_mem_start_kb", mem.tcp_start_kb);
  add_kb(r, "tcp_mem_peak_kb", mem.tcp_peak_kb);
  add_cpu(r, m.cpu, c.measured_deliveries, "relay_cpu_ns_per_delivery");
  r.boolean("drained", m.drained);
  // ok is the good subscribers' outcome; how many idle readers were closed (within 10 s
  // of the end) depends on the relay's limits and is a figure.
  const bool clean = add_errors(r, load, lost);
  r.boolean("ok", clean && m.drained);
  std::printf("%s\n", r.finish().c_str());
  std::fflush(stdout);
  return clean && m.drained ? 0 : 1;
}

}  // namespace

int run_scenario(const Options& o) {
  if (o.scenario == "F1") return run_f1(o);
  if (o.scenario == "F2" || o.scenario == "F3") return run_paced(o);
  if (o.scenario == "C1") return run_c1(o);
  if (o.scenario == "H1") return run_h1(o);
  if (o.scenario == "I1") return run_i1(o);
  if (o.scenario == "K1") return run_canary_flood(o);
  if (o.scenario == "A1") return run_auth_connect(o);
  if (o.scenario == "R1" || o.scenario == "M1") return run_history_scenario(o);
  std::fprintf(stderr, "wsrelay-bench: unknown scenario '%s'\n", o.scenario.c_str());
  return 64;
}

}  // namespace relay::bench
