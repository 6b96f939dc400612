// SPDX-License-Identifier: MIT
#include "presence.h"

#include "base/bytes.h"
#include "client.h"
#include "wire.h"
#include "ws/frame.h"

namespace relay::daemon {
namespace {

// {"client":"17","user":"alice"}; the id as a string, as JavaScript loses 64-bit integers.
void append_member(std::string* out, const Client& c) {
  out->append("{\"client\":\"").append(std::to_string(c.id)).append("\"");
  if (std::string_view user = connection_user(c); !user.empty())
    out->append(",\"user\":").append(wire::quote_json(user));
  out->append("}");
}

}  // namespace

std::string_view connection_user(const Client&) noexcept { return {}; }

void Presence::join(std::string_view channel, Client& c, bool events) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) it = channels_.emplace(std::string(channel), Members{}).first;
  notify(channel, it->second, "join", c);
  it->second[c.id] = Member{&c, events};
  if (backplane_) {
    std::string member;
    append_member(&member, c);
    backplane_->joined(channel, c.id, member);
  }
}

void Presence::leave(std::string_view channel, const Client& c) {
  if (channels_.empty()) return;
  auto it = channels_.find(channel);
  if (it == channels_.end() || it->second.erase(c.id) == 0) return;
  if (backplane_) {
    std::string member;
    append_member(&member, c);
    backplane_->left(channel, c.id, member);
  }
  if (it->second.empty()) {
    channels_.erase(it);
    return;
  }
  notify(channel, it->second, "leave", c);
}

void Presence::leave_all(const Client& c) {
  if (channels_.empty() || !c.ws) return;
  const pubsub::Subscriber& sub = c.ws->subscriber;
  for (size_t i = 0; i < sub.channel_count(); ++i) leave(sub.channel_name(i), c);
}

size_t Presence::count(std::string_view channel) const noexcept {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.size();
}

std::string Presence::encode_answer(std::string_view id_json, std::string_view channel) const {
  std::vector<std::string> all;
  if (backplane_ && backplane_->members(channel, &all)) {
    std::string out = "{\"id\":";
    out.append(id_json.empty() ? "null" : id_json).append(",\"ok\":true,\"count\":");
    out.append(std::to_string(all.size())).append(",\"clients\":[");
    for (size_t i = 0; i < all.size() && i < kMaxPresenceListed; ++i) {
      if (i) out.append(",");
      out.append(all[i]);
    }
    out.append("]}");
    return out;
  }
  std::string out = "{\"id\":";
  out.append(id_json.empty() ? "null" : id_json).append(",\"ok\":true,\"count\":");
  out.append(std::to_string(count(channel))).append(",\"clients\":[");
  if (auto it = channels_.find(channel); it != channels_.end()) {
    size_t listed = 0;
    for (const auto& [id, m] : it->second) {
      if (listed == kMaxPresenceListed) break;
      if (listed++) out.append(",");
      append_member(&out, *m.client);
    }
  }
  out.append("]}");
  return out;
}

void Presence::notify(std::string_view channel, const Members& members, std::string_view what,
                      const Client& about) {
  bool wanted = false;
  for (const auto& [id, m] : members) wanted |= m.events && m.client != &about;
  if (!wanted) return;
  std::string member;
  append_member(&member, about);
  send_event(channel, members, what, member, &about);
}

void Presence::remote_event(std::string_view channel, std::string_view what,
                            std::string_view member_json) {
  auto it = channels_.find(channel);
  if (it != channels_.end()) send_event(channel, it->second, what, member_json, nullptr);
}

void Presence::send_event(std::string_view channel, const Members& members, std::string_view what,
                          std::string_view member_json, const Client* skip) {
  FrameRef frame;
  for (const auto& [id, m] : members) {
    if (!m.events || m.client == skip) continue;
    if (!frame) {
      // Encoded once, shared by reference like a delivery.
      std::string text = "{\"channel\":" + wire::quote_json(channel) + ",\"";
      text.append(what).append("\":").append(member_json).append("}");
      frame = ws::prepare_server_frame(ws::Opcode::kText, as_bytes(text));
    }
    m.client->deliver(frame);
  }
}

}  // namespace relay::daemon
