// SPDX-License-Identifier: MIT
#include "redis/redis_sync.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <cstdlib>
#include <vector>

namespace relay::daemon::redis {

void ReplyFree::operator()(redisReply* r) const noexcept { freeReplyObject(r); }

SyncConnection::SyncConnection(std::string address, std::string username, std::string password,
                               int64_t timeout_ms)
    : address_(std::move(address)),
      username_(std::move(username)),
      password_(std::move(password)),
      timeout_ms_(timeout_ms) {}

SyncConnection::~SyncConnection() { close(); }

void SyncConnection::close() noexcept {
  if (c_) redisFree(c_);
  c_ = nullptr;
}

bool SyncConnection::open() noexcept {
  const timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  if (!address_.empty() && address_[0] == '/') {
    c_ = redisConnectUnixWithTimeout(address_.c_str(), tv);
  } else {
    const size_t colon = address_.rfind(':');
    const std::string host = address_.substr(0, colon);
    const int port = colon == std::string::npos ? 6379 : std::atoi(address_.c_str() + colon + 1);
    c_ = redisConnectWithTimeout(host.c_str(), port, tv);
  }
  if (!c_ || c_->err || redisSetTimeout(c_, tv) != REDIS_OK) {
    spdlog::debug("broker: history connection to redis {} failed", address_);
    close();
    return false;
  }
  if (!password_.empty()) {
    ReplyPtr r =
        username_.empty() ? command({"AUTH", password_}) : command({"AUTH", username_, password_});
    if (!r || r->type == REDIS_REPLY_ERROR) {
      close();
      return false;
    }
  }
  return true;
}

ReplyPtr SyncConnection::command(std::initializer_list<std::string_view> args) noexcept {
  if (!c_ && !open()) return nullptr;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  void* reply = redisCommandArgv(c_, int(argv.size()), argv.data(), lens.data());
  if (!reply) {
    spdlog::warn("broker: redis history read failed: {}", c_->errstr);
    close();
  }
  return ReplyPtr(static_cast<redisReply*>(reply));
}

}  // namespace relay::daemon::redis
