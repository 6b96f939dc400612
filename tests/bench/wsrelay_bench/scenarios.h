// SPDX-License-Identifier: MIT
// Runs the scenario opts.scenario against the relay at opts.host:opts.port and prints
// its JSON line on stdout. Returns the exit status: 0 clean, 1 when a message was
// lost, duplicated, reordered, re-typed, corrupted or misrouted (or a connection
// dropped), 2 when the connections could not be set up.
#pragma once

#include "options.h"

namespace relay::bench {
int run_scenario(const Options& opts);
// K1 canary under flood (canary_flood.cpp).
int run_canary_flood(const Options& opts);
// A1 connects with tokens on (--token-secret) or off (auth_connect.cpp).
int run_auth_connect(const Options& opts);
// C1 over wss (tls_idle.cpp).
int run_c1_tls(const Options& opts);
// R1 recovery storm, M1 history memory (history_scenarios.cpp).
int run_history_scenario(const Options& opts);
}  // namespace relay::bench
