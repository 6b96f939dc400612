// SPDX-License-Identifier: MIT
// A blocking Redis connection with a bounded timeout, for the few reads that must answer in
// the turn that asks (a client's subscribe reads its channel's position and missed
// messages; see README "Several nodes (Redis)"). Opened on first use, dropped on any error
// and opened again on the next use. Never used while the broker is down.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct redisContext;
struct redisReply;

namespace relay::daemon::redis {

struct ReplyFree {
  void operator()(redisReply* r) const noexcept;
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

class SyncConnection {
 public:
  SyncConnection(std::string address, std::string username, std::string password,
                 int64_t timeout_ms);
  ~SyncConnection();
  SyncConnection(const SyncConnection&) = delete;
  SyncConnection& operator=(const SyncConnection&) = delete;

  // The reply, or null when the connection failed or timed out (then closed). An error
  // reply is returned as such.
  ReplyPtr command(std::initializer_list<std::string_view> args) noexcept;
  void close() noexcept;

 private:
  bool open() noexcept;

  std::string address_, username_, password_;
  int64_t timeout_ms_;
  redisContext* c_ = nullptr;
};

}  // namespace relay::daemon::redis
