// SPDX-License-Identifier: MIT
// The load generator's command line: which scenario, where the relay is, and every
// scenario parameter (defaults per scenario as README "Performance" gives them; CI overrides them
// to run each scenario at a tiny scale for about a second).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "payload.h"

namespace relay::bench {

struct Options {
  std::string scenario;  // F1 F2 F3 C1 H1 I1 K1 A1 R1 M1
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  pid_t relay_pid = 0;          // for CPU time and RSS; 0 = not measured
  std::string label = "relay";  // printed as "relay" in the JSON line
  uint32_t channels = 1;
  uint32_t subscribers = 0;  // per channel (C1: connections)
  uint32_t window = 0;       // F1: messages in flight (closed loop)
  uint32_t batch = 0;        // F1: frames per publisher write (0: whatever the window allows)
  double rate = 0;           // F2/F3: messages per second in total (open loop)
  size_t size = 64;          // payload bytes (>= 32)
  double duration_s = 5;     // measured phase
  double warmup_s = 1;
  uint32_t concurrency = 256;  // connects + handshakes in progress at once
  uint32_t http_conns = 4;     // H1: HTTP publishers
  uint32_t pipeline = 16;      // H1: requests in flight per HTTP connection
  TypeMode type = TypeMode::kMixed;
  size_t read_chunk = 16384;  // bytes per recv()
  double setup_timeout_s = 120;
  double drain_timeout_s = 10;  // after the measured phase: wait for stragglers
  uint32_t warmup_conns = 100;  // C1: connected (and kept) before measuring
  double hold_s = 0;            // C1: keep the connections open this long after measuring
  bool own_channels = false;    // C1: each connection subscribes to its own channel (c1-N)
  bool tls = false;             // C1: wss (TLS 1.3) connections instead of plain ones
  uint32_t idle_readers = 0;    // I1: connections that never read
  int idle_rcvbuf = 2048;       // I1: their SO_RCVBUF
  bool deflate = false;         // WebSocket clients offer permessage-deflate (and require it)
  uint32_t flooders = 1;        // K1: clients flooding 1-byte messages
  std::string token_secret;     // A1: HS256 secret (kid "bench") to sign a token per client
  std::string token;            // WebSocket upgrades carry ?token=TOKEN (F1 with rights)
  uint32_t history = 100;       // R1: messages each client recovers; M1: stored per channel
};

// Fills the defaults of opts.scenario, then applies argv; false (with a message on
// stderr) for a bad command line.
bool parse_options(int argc, char** argv, Options* opts);
void print_usage();

}  // namespace relay::bench
