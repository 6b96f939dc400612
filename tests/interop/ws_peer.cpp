// SPDX-License-Identifier: MIT
// ws_peer: a WebSocket client on the engine's public API (ws.h), for the interop tests.
// It connects to an echo server, sends messages of the given types and sizes, checks
// every echo byte for byte (type included), then does the closing handshake and prints
// the peer's close code and reason as ws_status() reports them.
//
//   ws_peer --port N [--path /] [--iolist] [--send text:SIZE|binary:SIZE]...
//           [--close CODE:REASON | --server-close CODE:REASON]
//
// --iolist sends with ws_sendl (3 parts) and receives with ws_recvl (2 parts).
// --close: we close first (ws_done), then read until the peer's close.
// --server-close: we ask the server to close by sending the text "close:CODE:REASON".
// Output: "echo <type> <size> ok" per message, then "CLOSE <code> <reason>".
// Exit status 0 only if every echo matched and the close handshake finished.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ws/ws.h"

namespace {

constexpr int64_t kStepMs = 60000;  // deadline of each call (16 MiB under ASan is slow)

struct Message {
  bool text;
  size_t size;
};

// Deterministic payloads. Text mixes 1- to 4-byte UTF-8 sequences so that a split at any
// byte boundary (the servers fragment their echoes) lands inside characters.
std::string make_payload(bool text, size_t size, uint32_t seed) {
  std::string s;
  s.reserve(size);
  uint32_t x = seed * 2654435761u + 1;
  if (!text) {
    while (s.size() < size) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      s.push_back(static_cast<char>(x & 0xff));
    }
    return s;
  }
  static const char* const kChars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e", "Z"};
  for (size_t i = 0; s.size() < size; ++i) {
    const char* c = kChars[(i + seed) % 5];
    if (s.size() + std::strlen(c) > size) c = "x";
    s.append(c);
  }
  return s;
}

bool send_message(int s, bool use_iolist, bool text, const std::string& p) {
  int flags = text ? WS_TEXT : WS_BINARY;
  if (!use_iolist) return ws_send(s, flags, p.data(), p.size(), now() + kStepMs) == 0;
  size_t a = p.size() / 3, b = 2 * p.size() / 3;
  char* base = const_cast<char*>(p.data());
  iolist iol[3] = {
      {base, a, &iol[1], 0}, {base + a, b - a, &iol[2], 0}, {base + b, p.size() - b, nullptr, 0}};
  return ws_sendl(s, flags, &iol[0], &iol[2], now() + kStepMs) == 0;
}

ssize_t recv_message(int s, bool use_iolist, int* flags, std::vector<char>& buf) {
  if (!use_iolist) return ws_recv(s, flags, buf.data(), buf.size(), now() + kStepMs);
  size_t half = buf.size() / 2;
  iolist iol[2] = {{buf.data(), half, &iol[1], 0},
                   {buf.data() + half, buf.size() - half, nullptr, 0}};
  return ws_recvl(s, flags, &iol[0], &iol[1], now() + kStepMs);
}

bool parse_close(const char* arg, int* code, std::string* reason) {
  const char* colon = std::strchr(arg, ':');
  if (!colon) return false;
  *code = std::atoi(arg);
  *reason = colon + 1;
  return true;
}

int fail(const char* what) {
  std::printf("FAIL %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::string path = "/";
  bool use_iolist = false;
  std::vector<Message> messages;
  int close_code = 0;
  std::string close_reason;
  bool we_close = false, server_close = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--port")
      port = std::atoi(v), ++i;
    else if (a == "--path")
      path = v, ++i;
    else if (a == "--iolist")
      use_iolist = true;
    else if (a == "--send") {
      std::string m = v;
      ++i;
      size_t colon = m.find(':');
      if (colon == std::string::npos) return std::printf("FAIL bad --send %s\n", v), 2;
      messages.push_back(
          {m.substr(0, colon) == "text", std::strtoull(m.c_str() + colon + 1, nullptr, 10)});
    } else if (a == "--close" || a == "--server-close") {
      if (!parse_close(v, &close_code, &close_reason))
        return std::printf("FAIL bad %s\n", a.c_str()), 2;
      (a == "--close" ? we_close : server_close) = true;
      ++i;
    } else {
      return std::printf("FAIL unknown argument %s\n", a.c_str()), 2;
    }
  }

  ipaddr addr;
  if (ipaddr_remote(&addr, "127.0.0.1", port, IPADDR_IPV4, now() + kStepMs) != 0)
    return fail("ipaddr_remote");
  int s = tcp_connect(&addr, now() + kStepMs);
  if (s < 0) return fail("tcp_connect");
  s = ws_attach_client(s, WS_BINARY, path.c_str(), "127.0.0.1", now() + kStepMs);
  if (s < 0) return fail("ws_attach_client");

  size_t largest = 0;
  for (const Message& m : messages) largest = m.size > largest ? m.size : largest;
  std::vector<char> buf(largest + 1);  // one spare byte: a longer echo is caught, not truncated
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    std::string p = make_payload(m.text, m.size, static_cast<uint32_t>(i));
    if (!send_message(s, use_iolist, m.text, p)) return fail("ws_send");
    int flags = -1;
    ssize_t n = recv_message(s, use_iolist, &flags, buf);
    if (n < 0) return fail("ws_recv");
    const char* type = m.text ? "text" : "binary";
    if (static_cast<size_t>(n) != p.size() || std::memcmp(buf.data(), p.data(), p.size()) != 0 ||
        (flags == WS_TEXT) != m.text) {
      std::printf("FAIL echo %s %zu: got %zd bytes, flags %d\n", type, m.size, n, flags);
      return 1;
    }
    std::printf("echo %s %zu ok\n", type, m.size);
  }

  if (we_close) {
    if (ws_done(s, close_code, close_reason.data(), close_reason.size(), now() + kStepMs) != 0)
      return fail("ws_done");
  } else if (server_close) {
    std::string cmd = "close:" + std::to_string(close_code) + ":" + close_reason;
    if (ws_send(s, WS_TEXT, cmd.data(), cmd.size(), now() + kStepMs) != 0)
      return fail("ws_send close");
  }
  // Read until the peer's close frame: ws_recv then fails with EPIPE, now and later.
  for (int k = 0; k < 100; ++k) {
    int flags;
    if (ws_recv(s, &flags, buf.data(), buf.size(), now() + kStepMs) >= 0) continue;
    if (errno != EPIPE) return fail("ws_recv (awaiting close)");
    break;
  }
  if (ws_recv(s, nullptr, buf.data(), buf.size(), 0) != -1 || errno != EPIPE)
    return fail("ws_recv after close (want EPIPE)");
  int code = -1;
  char reason[128];
  ssize_t rlen = ws_status(s, &code, reason, sizeof(reason));
  if (rlen < 0) return fail("ws_status");
  std::printf("CLOSE %d %.*s\n", code, static_cast<int>(rlen), reason);
  // Answers the server's close if it went first; either way waits for nothing more.
  int u = ws_detach(s, code, reason, static_cast<size_t>(rlen), now() + kStepMs);
  if (u < 0) return fail("ws_detach");
  if (tcp_close(u, now() + kStepMs) != 0 && errno != ECONNRESET) return fail("tcp_close");
  std::fflush(stdout);
  return 0;
}
