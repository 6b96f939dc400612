// SPDX-License-Identifier: MIT
// The Lua scripts behind history across nodes (README "Several nodes (Redis)"). Keys of a
// channel: <prefix>h:<channel> (hash: epoch, top) and <prefix>s:<channel> (stream, one
// entry per message, id "<offset>-1", fields t = Redis time in ms, m = our bytes).
#pragma once

namespace relay::daemon::redis {

// KEYS: meta, stream, pub/sub channel. ARGV: bytes (redis_message.h), history size, ttl
// seconds (0 = none), a fresh random epoch (8 hex digits) used when the channel has none.
// In one step: the epoch (kept: HSETNX), the next offset (HINCRBY), the stream entry
// (XADD, trimmed to the history size exactly), the stream's TTL, and the PUBLISH with the
// position in front. Returns {epoch, offset}.
inline constexpr const char* kPublishScript = R"lua(
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[4]) == 1 then redis.call('DEL', KEYS[2]) end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local off = redis.call('HINCRBY', KEYS[1], 'top', 1)
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], string.format('%d-1', off),
           't', string.format('%d', ms), 'm', ARGV[1])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
redis.call('PUBLISH', KEYS[3], 'h' .. epoch .. string.format('%016x', off) .. ARGV[1])
return {epoch, off}
)lua";

// KEYS: meta, stream. ARGV: a fresh epoch (as above), the first offset wanted (1 = all).
// Returns {epoch, top, Redis seconds, microseconds, entries from that offset}: one
// consistent snapshot, creating the epoch when the channel has none yet (a subscriber's
// position must be one the next publish keeps).
inline constexpr const char* kReadScript = R"lua(
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then redis.call('DEL', KEYS[2]) end
local m = redis.call('HMGET', KEYS[1], 'epoch', 'top')
local t = redis.call('TIME')
return {m[1], m[2] or '0', t[1], t[2], redis.call('XRANGE', KEYS[2], ARGV[2] .. '-0', '+')}
)lua";

}  // namespace relay::daemon::redis
