// SPDX-License-Identifier: MIT
// wsrelay-bench: the load generator of README "Performance" (scenarios.cpp says what each runs).
//   wsrelay-bench F1 --port 8080 --relay-pid $(pidof wsrelay) --window 256
// One JSON line per run on stdout; see tests/bench/run_all.sh for the full table.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "options.h"
#include "scenarios.h"

namespace relay::bench {

void print_usage() {
  std::fprintf(stderr,
               "usage: wsrelay-bench F1|F2|F3|C1|H1|I1|K1|A1|R1|M1 --port PORT [options]\n"
               "  --host ADDR          relay address (default 127.0.0.1; loopback only)\n"
               "  --relay-pid PID      relay process for CPU time and RSS from /proc\n"
               "  --label NAME         relay name in the JSON line\n"
               "  --subscribers N      subscribers per channel (C1: connections)\n"
               "  --connections N      same as --subscribers\n"
               "  --channels N         F2: channels (one publisher each)\n"
               "  --window W           F1: messages in flight\n"
               "  --batch B            F1: publish in batches of B frames per write (<= W)\n"
               "  --rate R             F2/F3: messages per second in total\n"
               "  --size B             payload bytes (32 to 65536)\n"
               "  --duration S         measured seconds\n"
               "  --warmup S           unmeasured seconds before\n"
               "  --concurrency N      connects in progress at once\n"
               "  --http-conns N       H1: HTTP publishing connections\n"
               "  --pipeline N         H1: requests in flight per connection\n"
               "  --type binary|text|mixed  message types (mixed: odd sequence numbers are text)\n"
               "  --read-chunk B       bytes per recv()\n"
               "  --setup-timeout S    --drain-timeout S\n"
               "  --warmup-conns N     C1: connections opened (and kept) before measuring\n"
               "  --hold S             C1: keep the idle connections S seconds after measuring\n"
               "  --own-channels on|off  C1: each connection on its own channel (default off)\n"
               "  --tls on|off         C1: wss connections (TLS 1.3, no certificate check)\n"
               "  --flooders N         K1: clients flooding 1-byte messages (canary under flood)\n"
               "  --token-secret S     A1: HS256 secret (kid bench), a token per client\n"
               "  --token T            WebSocket upgrades carry ?token=T\n"
               "  --history N          R1: messages each client recovers; M1: stored per channel\n"
               "  --idle-readers N     I1: connections that never read\n"
               "  --idle-rcvbuf B      I1: their SO_RCVBUF\n"
               "  --deflate on|off     WebSocket clients offer permessage-deflate (default off);\n"
               "                       on: a relay that declines it fails the run\n"
               "Defaults: F1 1000 subscribers, W=32, 64 B; F2 100 channels x 10,\n"
               "10000 msg/s, 256 B; F3 10000 subscribers, 10 msg/s, 32 B; C1 10000 connections;\n"
               "H1 100 subscribers, 4 connections x 16 pipelined, 64 B; I1 2000 idle readers,\n"
               "4 subscribers, 160 msg/s of 65536 B; K1 500 subscribers, 1 flooder;\n"
               "A1 2000 connections on a raw channel, then 2000 on /ws, 64 at once.\n"

               "R1 1000 clients recovering 100 messages of 200 B each; M1 100 channels x\n"
               "1000 messages of 64 B (both need history on \"storm\" and \"mem-*\").\n");
}

namespace {

void set_defaults(Options* o) {
  const std::string& s = o->scenario;
  if (s == "F1") {
    o->subscribers = 1000;
    o->window = 32;
    o->size = 64;
  } else if (s == "F2") {
    o->channels = 100;
    o->subscribers = 10;
    o->rate = 10000;
    o->size = 256;
  } else if (s == "F3") {
    o->subscribers = 10000;
    o->rate = 10;
    o->size = 32;
    o->duration_s = 10;
    o->read_chunk = 4096;
  } else if (s == "C1") {
    o->subscribers = 10000;
    o->read_chunk = 4096;
  } else if (s == "H1") {
    o->subscribers = 100;
    o->size = 64;
  } else if (s == "I1") {  // 2,000 idle readers next to a 10 MiB/s publisher
    o->subscribers = 4;
    o->idle_readers = 2000;
    o->rate = 160;
    o->size = 65536;
    o->warmup_s = 0;
  } else if (s == "K1") {
    o->subscribers = 500;
    o->size = 32;
  } else if (s == "A1") {  // per path: raw, then /ws
    o->subscribers = 2000;
    o->concurrency = 64;
  } else if (s == "R1") {  // recovery storm
    o->subscribers = 1000;
    o->history = 100;
    o->size = 200;
  } else if (s == "M1") {  // memory per stored message
    o->channels = 100;
    o->history = 1000;
    o->size = 64;
  }
}

template <typename T>
bool parse_number(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool parse_options(int argc, char** argv, Options* o) {
  if (argc < 2 || std::string_view(argv[1]) == "--help") return false;
  o->scenario = argv[1];
  set_defaults(o);
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "wsrelay-bench: %s needs a value\n", argv[i]);
      return false;
    }
    std::string_view v = argv[++i];
    bool ok = true;
    if (arg == "--host")
      o->host = v;
    else if (arg == "--port")
      ok = parse_number(v, &o->port);
    else if (arg == "--relay-pid")
      ok = parse_number(v, &o->relay_pid);
    else if (arg == "--label")
      o->label = v;
    else if (arg == "--subscribers" || arg == "--connections")
      ok = parse_number(v, &o->subscribers);
    else if (arg == "--channels")
      ok = parse_number(v, &o->channels) && o->channels > 0;
    else if (arg == "--window")
      ok = parse_number(v, &o->window) && o->window > 0;
    else if (arg == "--batch")
      ok = parse_number(v, &o->batch);
    else if (arg == "--rate")
      ok = parse_number(v, &o->rate) && o->rate > 0;
    else if (arg == "--size")
      ok = parse_number(v, &o->size) && o->size >= kMinPayload && o->size <= kMaxPayload;
    else if (arg == "--duration")
      ok = parse_number(v, &o->duration_s) && o->duration_s > 0;
    else if (arg == "--warmup")
      ok = parse_number(v, &o->warmup_s) && o->warmup_s >= 0;
    else if (arg == "--concurrency")
      ok = parse_number(v, &o->concurrency) && o->concurrency > 0;
    else if (arg == "--http-conns")
      ok = parse_number(v, &o->http_conns) && o->http_conns > 0;
    else if (arg == "--pipeline")
      ok = parse_number(v, &o->pipeline) && o->pipeline > 0;
    else if (arg == "--type")
      ok = parse_type_mode(v, &o->type);
    else if (arg == "--read-chunk")
      ok = parse_number(v, &o->read_chunk) && o->read_chunk >= 512;
    else if (arg == "--setup-timeout")
      ok = parse_number(v, &o->setup_timeout_s) && o->setup_timeout_s > 0;
    else if (arg == "--warmup-conns")
      ok = parse_number(v, &o->warmup_conns);
    else if (arg == "--token-secret")
      ok = !(o->token_secret = v).empty();
    else if (arg == "--token")
      ok = !(o->token = v).empty();
    else if (arg == "--flooders")
      ok = parse_number(v, &o->flooders) && o->flooders > 0;
    else if (arg == "--hold")
      ok = parse_number(v, &o->hold_s) && o->hold_s >= 0;
    else if (arg == "--history")
      ok = parse_number(v, &o->history);
    else if (arg == "--idle-readers")
      ok = parse_number(v, &o->idle_readers);
    else if (arg == "--idle-rcvbuf")
      ok = parse_number(v, &o->idle_rcvbuf) && o->idle_rcvbuf > 0;
    else if (arg == "--deflate")
      ok = (o->deflate = v == "on") || v == "off";
    else if (arg == "--own-channels")
      ok = (o->own_channels = v == "on") || v == "off";
    else if (arg == "--tls")
      ok = (o->tls = v == "on") || v == "off";
    else if (arg == "--drain-timeout")
      ok = parse_number(v, &o->drain_timeout_s) && o->drain_timeout_s > 0;
    else {
      std::fprintf(stderr, "wsrelay-bench: unknown option %s\n", argv[i - 1]);
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "wsrelay-bench: bad value for %s: %s\n", argv[i - 1], argv[i]);
      return false;
    }
  }
  if (o->batch > 0 && o->window > 0 && o->batch > o->window) {
    std::fprintf(stderr, "wsrelay-bench: --batch must not exceed --window\n");
    return false;
  }
  if (o->port == 0) {
    std::fprintf(stderr, "wsrelay-bench: --port is required\n");
    return false;
  }
  // Loopback only: this tool opens thousands of connections as fast as it can.
  if (o->host.rfind("127.", 0) != 0 && o->host != "localhost") {
    std::fprintf(stderr, "wsrelay-bench: --host must be a loopback address\n");
    return false;
  }
  return true;
}

}  // namespace relay::bench

int main(int argc, char** argv) {
  relay::bench::Options opts;
  if (!relay::bench::parse_options(argc, argv, &opts)) {
    relay::bench::print_usage();
    return 64;
  }
  ::signal(SIGPIPE, SIG_IGN);
  return relay::bench::run_scenario(opts);
}
