// SPDX-License-Identifier: MIT
// History on raw channels (README "History and recovery"): `?history=N` and
// `?since=OFFSET&epoch=E` on the upgrade of GET /channels/{name}, the Wsrelay-Epoch and
// Wsrelay-Offset headers of the 101, and the replay queued behind it (or close 4009).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::daemon {

class Server;
struct Client;

constexpr uint16_t kHistoryLostCode = 4009;  // README: cannot resume from that position

struct RawResume {
  enum class Kind : uint8_t { kNone, kLast, kSince } kind = Kind::kNone;
  uint64_t count = 0;   // kLast: messages wanted
  uint64_t offset = 0;  // kSince
  std::string epoch;    // kSince
};

// The request target's query ("/channels/x?since=4&epoch=ab12cd34"); nullopt when a value
// is malformed, or since comes without epoch (400). Other parameters are ignored.
std::optional<RawResume> parse_raw_resume(std::string_view target);

// The 101's extra header lines for `channel` ("" when it keeps no history). Reads the
// stream position (creating the stream: the connection is about to subscribe).
std::string raw_history_headers(Server& server, std::string_view channel);

// After the subscription: queues the stored messages asked for (raw frames, as they were
// published), or begins the close with 4009 and the reason.
void replay_raw(Server& server, Client* c, const RawResume& resume);

}  // namespace relay::daemon
