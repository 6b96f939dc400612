// SPDX-License-Identifier: MIT
// Presence: who is subscribed to the channels whose entry has `presence: true` (README
// "Presence"), and the join/leave events for the subscribers who asked for them. One map
// entry per subscriber of such a channel (about 60 bytes each; the channel's
// max_subscribers bounds them); the answer to the presence op lists at most
// kMaxPresenceListed of them with the exact count. Local to this node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relay::daemon {

struct Client;

constexpr size_t kMaxPresenceListed = 1000;

// The user a connection acts for: the token's `sub` once access control is wired into the
// sessions (issue 10), "" until then. Presence lists and events carry it when not empty.
std::string_view connection_user(const Client& c) noexcept;

// Presence across nodes (the Redis broker, README "Several nodes (Redis)"): this node's
// joins and leaves are written where every node reads them, and the presence op answers
// the union. Null for one node.
class PresenceBackplane {
 public:
  // member_json: {"client":"17","user":"alice"} as the presence op lists it.
  virtual void joined(std::string_view channel, uint64_t client, std::string_view member_json) = 0;
  virtual void left(std::string_view channel, uint64_t client, std::string_view member_json) = 0;
  // Every node's members of the channel; false when the backplane cannot answer now (the
  // answer is then this node's own).
  virtual bool members(std::string_view channel, std::vector<std::string>* out) = 0;

 protected:
  ~PresenceBackplane() = default;
};

class Presence {
 public:
  void use_backplane(PresenceBackplane* b) noexcept { backplane_ = b; }
  // A join or leave on another node ("join"/"leave"): this node's members who asked for
  // events get it.
  void remote_event(std::string_view channel, std::string_view what, std::string_view member_json);

  // c joined `channel`: subscribers who asked for events get a join event (not c itself).
  // `events`: c wants join/leave events of this channel.
  void join(std::string_view channel, Client& c, bool events);
  // c left `channel` (no-op when it was not present): leave events to those who asked.
  // Called on every unsubscribe and close, whatever the channel's options say now, so no
  // member outlives its client.
  void leave(std::string_view channel, const Client& c);
  // c is closing: leaves every channel it joined (its subscriber's list).
  void leave_all(const Client& c);
  bool empty() const noexcept { return channels_.empty(); }

  size_t count(std::string_view channel) const noexcept;
  // The presence op's ack: {"id":…,"ok":true,"count":N,"clients":[…]}.
  std::string encode_answer(std::string_view id_json, std::string_view channel) const;

 private:
  struct Member {
    Client* client;
    bool events;
  };
  using Members = std::unordered_map<uint64_t, Member>;  // by client id
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  void notify(std::string_view channel, const Members& members, std::string_view what,
              const Client& about);
  void send_event(std::string_view channel, const Members& members, std::string_view what,
                  std::string_view member_json, const Client* skip);

  std::unordered_map<std::string, Members, NameHash, std::equal_to<>> channels_;
  PresenceBackplane* backplane_ = nullptr;
};

}  // namespace relay::daemon
