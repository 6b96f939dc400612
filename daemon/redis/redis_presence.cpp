// SPDX-License-Identifier: MIT
// Presence across nodes (README "Several nodes (Redis)"). Each channel with presence has a
// Redis hash <prefix>p:<channel>: field "<node>:<client id>" -> the member's JSON (with
// "node"). Redis 7.0 has no per-field TTL, so entries live as long as their node's liveness
// key <prefix>n:<node> (SET PX kPresenceTtlMs, refreshed every kPresenceRefreshMs): the
// presence query skips, and deletes, entries of nodes whose key expired (a node killed with
// SIGKILL drops out within kPresenceTtlMs). Joins and leaves also cross nodes as 'p'
// messages on the channel (redis_message.h), for the members that asked for events.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "redis/redis_broker.h"
#include "redis/redis_message.h"

namespace relay::daemon::redis {
namespace {

// KEYS: the channel's hash. ARGV: the liveness key prefix. Members of live nodes.
constexpr const char* kMembersScript = R"lua(
local all = redis.call('HGETALL', KEYS[1])
local out, alive = {}, {}
for i = 1, #all, 2 do
  local node = string.sub(all[i], 1, 16)
  if alive[node] == nil then alive[node] = redis.call('EXISTS', ARGV[1] .. node) == 1 end
  if alive[node] then out[#out + 1] = all[i + 1] else redis.call('HDEL', KEYS[1], all[i]) end
end
return out
)lua";

void send(redisAsyncContext* ac, const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAsyncCommandArgv(ac, nullptr, nullptr, int(argv.size()), argv.data(), lens.data());
}

}  // namespace

std::string RedisBroker::presence_key(std::string_view channel) const {
  return config_.prefix + "p:" + std::string(channel);
}

std::string RedisBroker::presence_field(uint64_t client) const {
  return node_hex_ + ":" + std::to_string(client);
}

std::string RedisBroker::node_key() const { return config_.prefix + "n:" + node_hex_; }

void RedisBroker::attach_presence(Presence& presence) {
  presence_ = &presence;
  presence.use_backplane(this);
}

void RedisBroker::joined(std::string_view channel, uint64_t client, std::string_view member_json) {
  // {"client":"17"} -> {"client":"17","node":"…"}: client ids are unique per node only.
  std::string member(member_json.substr(0, member_json.size() - 1));
  member.append(",\"node\":\"").append(node_hex_).append("\"}");
  const bool first = present_.empty();
  std::string& kept = present_[std::string(channel)][client];
  kept = std::move(member);
  if (!up_) return;  // written when Redis is back (presence_up)
  if (first) send(pub_, {"SET", node_key(), "1", "PX", std::to_string(kPresenceTtlMs)});
  send(pub_, {"HSET", presence_key(channel), presence_field(client), kept});
  std::string event;
  encode_presence(node_id_, true, kept, &event);
  send(pub_, {"PUBLISH", key_of(channel), event});
}

void RedisBroker::left(std::string_view channel, uint64_t client,
                       std::string_view /*member_json*/) {
  auto it = present_.find(std::string(channel));
  if (it == present_.end()) return;
  auto m = it->second.find(client);
  if (m == it->second.end()) return;
  if (up_) {
    send(pub_, {"HDEL", presence_key(channel), presence_field(client)});
    std::string event;
    encode_presence(node_id_, false, m->second, &event);
    send(pub_, {"PUBLISH", key_of(channel), event});
  }
  it->second.erase(m);
  if (it->second.empty()) present_.erase(it);
}

bool RedisBroker::members(std::string_view channel, std::vector<std::string>* out) {
  if (!up_) return false;
  ReplyPtr r =
      sync_.command({"EVAL", kMembersScript, "1", presence_key(channel), config_.prefix + "n:"});
  if (!r || r->type != REDIS_REPLY_ARRAY) return false;
  for (size_t i = 0; i < r->elements; ++i)
    if (r->element[i]->type == REDIS_REPLY_STRING)
      out->emplace_back(r->element[i]->str, r->element[i]->len);
  return true;
}

// Connected (again): Redis may have lost everything, so this node's entries are written
// afresh, and kept alive from now on.
void RedisBroker::presence_up() noexcept {
  if (!presence_refresh_.is_armed()) presence_refresh_.arm_every(kPresenceRefreshMs);
  if (present_.empty()) return;
  send(pub_, {"SET", node_key(), "1", "PX", std::to_string(kPresenceTtlMs)});
  for (const auto& [channel, members] : present_) {
    const std::string key = presence_key(channel);
    std::vector<std::string> fields;
    fields.reserve(members.size());
    std::vector<std::string_view> args{"HSET", key};
    for (const auto& [client, json] : members) fields.push_back(presence_field(client));
    size_t i = 0;
    for (const auto& [client, json] : members) {
      args.push_back(fields[i++]);
      args.push_back(json);
    }
    send(pub_, args);
  }
}

void RedisBroker::on_presence_refresh(void* data) noexcept {
  auto* self = static_cast<RedisBroker*>(data);
  if (!self->up_ || self->present_.empty()) return;
  send(self->pub_, {"SET", self->node_key(), "1", "PX", std::to_string(kPresenceTtlMs)});
}

void RedisBroker::presence_event(std::string_view channel, std::string_view bytes) noexcept {
  const std::optional<PresenceEvent> e = decode_presence(bytes);
  if (!e || e->node == node_id_ || !presence_) return;  // ours: told locally already
  presence_->remote_event(channel, e->join ? "join" : "leave", e->member_json);
}

}  // namespace relay::daemon::redis
