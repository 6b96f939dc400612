// SPDX-License-Identifier: MIT
// Google Benchmark for the sans-I/O WebSocket core (lib/ws): the hot paths, with the
// speed targets listed below. Run a Release build:
//   build-rel/tests/bench/ws_core_bench --benchmark_min_time=2
// Targets: unmask+decode of 64 KiB client frames >= 3 GB/s; a 64-byte server frame
// encoded in <= 50 ns; a browser upgrade request parsed, checked and answered <= 2 us.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "../unit/ws/browser_requests.h"
#include "base/bytes.h"
#include "ws/frame.h"
#include "ws/handshake.h"
#include "ws/protocol.h"
#include "ws/utf8.h"

namespace relay::ws {
namespace {

// A masked client frame of `len` bytes, as the wire carries it.
std::string client_frame(Opcode op, size_t len, char fill_from = 'a') {
  std::string payload(len, '\0');
  for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(fill_from + i % 26);
  std::byte header[kMaxHeaderBytes];
  const uint32_t key = 0x3D21FA37;
  const size_t hlen = encode_header(header, true, op, len, &key);
  apply_mask(reinterpret_cast<std::byte*>(payload.data()), len, key);
  return std::string(reinterpret_cast<const char*>(header), hlen) + payload;
}

// One 64 KiB masked frame per iteration: copied into the input buffer (standing in for
// read()), header decoded, payload unmasked in place and returned as a view.
void run_decode(benchmark::State& state, Opcode op) {
  const size_t len = static_cast<size_t>(state.range(0));
  const std::string frame = client_frame(op, len);
  Limits lim;
  Protocol p(Role::kServer, lim);
  for (auto _ : state) {
    auto space = p.input_space(frame.size());
    std::memcpy(space.data(), frame.data(), frame.size());
    p.commit_input(frame.size());
    Event ev = p.poll_event();
    if (ev.kind != EventKind::kMessage || ev.payload.size() != len) {
      state.SkipWithError("unexpected event");
      break;
    }
    benchmark::DoNotOptimize(ev.payload.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}

void BM_UnmaskDecodeBinary(benchmark::State& state) { run_decode(state, Opcode::kBinary); }
BENCHMARK(BM_UnmaskDecodeBinary)->Arg(64 << 10)->Arg(1 << 10)->Arg(16 << 20);

// Text adds the UTF-8 check of every byte (ASCII here).
void BM_UnmaskDecodeText(benchmark::State& state) { run_decode(state, Opcode::kText); }
BENCHMARK(BM_UnmaskDecodeText)->Arg(64 << 10);

// The same 64 KiB frame arriving in 4 KiB reads, as from a socket.
void BM_UnmaskDecodeBinaryIn4KiBReads(benchmark::State& state) {
  const size_t len = 64 << 10;
  const std::string frame = client_frame(Opcode::kBinary, len);
  Protocol p(Role::kServer);
  for (auto _ : state) {
    Event ev;
    for (size_t pos = 0; pos < frame.size(); pos += 4096) {
      const size_t n = std::min<size_t>(4096, frame.size() - pos);
      auto space = p.input_space(n);
      std::memcpy(space.data(), frame.data() + pos, n);
      p.commit_input(n);
      ev = p.poll_event();
    }
    if (ev.kind != EventKind::kMessage) {
      state.SkipWithError("unexpected event");
      break;
    }
    benchmark::DoNotOptimize(ev.payload.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_UnmaskDecodeBinaryIn4KiBReads);

void BM_ApplyMask(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    apply_mask(buf.data(), buf.size(), 0x3D21FA37);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}
BENCHMARK(BM_ApplyMask)->Arg(64 << 10);

// Fan-out encodes each published message once with prepare_server_frame().
void BM_EncodeServerFrame64(benchmark::State& state) {
  const std::string payload(64, 'x');
  for (auto _ : state) {
    FrameRef f = prepare_server_frame(Opcode::kText, as_bytes(payload));
    benchmark::DoNotOptimize(f.data());
  }
}
BENCHMARK(BM_EncodeServerFrame64);

// The same through Protocol::send_message (binary: no UTF-8 check), queued and flushed.
void BM_SendMessageServer64(benchmark::State& state) {
  const std::string payload(64, 'x');
  Protocol p(Role::kServer);
  for (auto _ : state) {
    (void)p.send_message(false, as_bytes(payload));
    p.out().consume(p.out().bytes());
  }
}
BENCHMARK(BM_SendMessageServer64);

// A client frame: the same plus a fresh mask key and the XOR.
void BM_SendMessageClient64(benchmark::State& state) {
  const std::string payload(64, 'x');
  Protocol p(Role::kClient);
  for (auto _ : state) {
    (void)p.send_message(false, as_bytes(payload));
    p.out().consume(p.out().bytes());
  }
}
BENCHMARK(BM_SendMessageClient64);

using relay::ws::test::kChromeRequest;  // Chromium 156, as captured on the wire

// parse_request + check_upgrade + compute_accept: all a server does with the request.
void BM_UpgradeRequest(benchmark::State& state) {
  HttpHead head;
  UpgradeRequest up;
  char accept[kAcceptChars + 1];
  for (auto _ : state) {
    size_t consumed = 0;
    if (parse_request(as_bytes(kChromeRequest), {}, &head, &consumed) != HttpParse::kComplete ||
        check_upgrade(head, &up) != 0 || !compute_accept(up.key, accept)) {
      state.SkipWithError("handshake failed");
      break;
    }
    benchmark::DoNotOptimize(accept);
  }
}
BENCHMARK(BM_UpgradeRequest);

// The same plus building the 101 answer.
void BM_UpgradeRequestAndResponse(benchmark::State& state) {
  HttpHead head;
  UpgradeRequest up;
  char accept[kAcceptChars + 1];
  std::string resp;
  resp.reserve(256);
  for (auto _ : state) {
    size_t consumed = 0;
    (void)parse_request(as_bytes(kChromeRequest), {}, &head, &consumed);
    (void)check_upgrade(head, &up);
    (void)compute_accept(up.key, accept);
    build_accept_response(&resp, accept, {});
    benchmark::DoNotOptimize(resp.data());
  }
}
BENCHMARK(BM_UpgradeRequestAndResponse);

void BM_ParseRequestOnly(benchmark::State& state) {
  HttpHead head;
  for (auto _ : state) {
    size_t consumed = 0;
    benchmark::DoNotOptimize(parse_request(as_bytes(kChromeRequest), {}, &head, &consumed));
  }
}
BENCHMARK(BM_ParseRequestOnly);

void BM_ComputeAccept(benchmark::State& state) {
  char accept[kAcceptChars + 1];
  for (auto _ : state) benchmark::DoNotOptimize(compute_accept("sbtGO+vD9Yu9+FSvGtnPAA==", accept));
}
BENCHMARK(BM_ComputeAccept);

// UTF-8 validation throughput: pure ASCII (fast path) and mixed 1-4 byte text.
void BM_Utf8Ascii(benchmark::State& state) {
  std::string s(static_cast<size_t>(state.range(0)), 'a');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(' ' + i % 90);
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(as_bytes(s)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Utf8Ascii)->Arg(64 << 10);

void BM_Utf8Mixed(benchmark::State& state) {
  // "Hello κόσμε € 😀 " repeated: ASCII runs with 2, 3 and 4 byte characters.
  const std::string unit =
      "Hello \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xe2\x82\xac \xf0\x9f\x98\x80 ";
  std::string s;
  while (s.size() + unit.size() <= static_cast<size_t>(state.range(0))) s += unit;
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(as_bytes(s)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Utf8Mixed)->Arg(64 << 10);

void BM_Utf8Greek(benchmark::State& state) {
  // All two-byte characters: the DFA on every byte.
  std::string s;
  while (s.size() + 2 <= static_cast<size_t>(state.range(0))) s += "\xce\xba";
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(as_bytes(s)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_Utf8Greek)->Arg(64 << 10);

}  // namespace
}  // namespace relay::ws

BENCHMARK_MAIN();
