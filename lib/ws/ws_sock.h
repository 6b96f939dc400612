// SPDX-License-Identifier: MIT
// WsSock: the object behind a ws handle. It owns the bytestream handle it was attached
// to and a ws::Protocol (the sans-I/O core), and turns the core's bytes-in/events-out
// into libdill's blocking calls: read until an event, flush the out-queue with writev,
// wait with poll() until the deadline. The C edge (ws.cpp) checks arguments and sets
// errno; everything here returns Result.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "ws/bytestream.h"
#include "ws/handle.h"
#include "ws/handshake.h"
#include "ws/protocol.h"
#include "ws/wsr_api.h"

namespace relay::ws {

// The out-queue limit (libdill's would-block point): a send that finds more than this
// queued waits for the queue to drain below it, or fails with ETIMEDOUT unqueued.
constexpr size_t kSendQueueLimit = 1u << 20;

class WsSock final : public HandleObject, public MessageSocket {
 public:
  // Takes over bytestream handle `u` (pinned by `pin`, interface `bs`).
  WsSock(Role role, int flags, int u, HandleRef pin, Bytestream* bs) noexcept;

  void* query(HandleType type) noexcept override;
  void on_close() noexcept override;  // hclose(): closes the bytestream, no close frame

  // RFC 6455 §4: the opening handshake, run once right after construction.
  // Server: EMSGSIZE when resource or host does not fit (after answering 431).
  Result<void> accept_upgrade(char* resource, size_t resourcelen, char* host, size_t hostlen,
                              int64_t deadline) noexcept;
  Result<void> request_upgrade(const char* resource, const char* host, int64_t deadline) noexcept;

  // One message gathered from `parts`; the frame goes to the out-queue, then the queue
  // is flushed until empty or the deadline (deadline 0: one non-blocking try).
  Result<void> send(bool text, std::span<const std::span<const std::byte>> parts,
                    int64_t deadline) noexcept;
  // One whole message scattered into the iolist (capacity `cap`); *text says its type.
  Result<size_t> recv(bool* text, iolist* first, size_t cap, int64_t deadline) noexcept;
  // Our close frame (status 0 = no code), then a flush.
  Result<void> done(uint16_t status, std::string_view reason, int64_t deadline) noexcept;
  // done() unless sent, read and drop until the peer's close, flush; returns the
  // bytestream handle. The caller then takes the ws handle out of the table.
  Result<int> detach(uint16_t status, std::string_view reason, int64_t deadline) noexcept;
  // The peer's close code and reason (kAgain until its close frame arrived).
  Result<size_t> status(int* code, void* buf, size_t len) noexcept;

  // The iolist calls with errno: ws_sendl / ws_recvl and msendl / mrecvl use them.
  int sendl(bool text, iolist* first, iolist* last, int64_t deadline) noexcept;
  ssize_t recvl(int* flags, iolist* first, iolist* last, int64_t deadline) noexcept;

  // MessageSocket: the attach-time type (mrecv fails with EPROTO on the other type).
  int send_message(iolist* first, iolist* last, int64_t deadline) noexcept override;
  ssize_t recv_message(iolist* first, iolist* last, int64_t deadline) noexcept override;

 private:
  // Appends what the bytestream has (waiting for at least one byte) to `buf`.
  Result<void> read_more(std::string* buf, int64_t deadline) noexcept;
  using HeadParser = HttpParse (*)(std::span<const std::byte>, const HttpLimits&, HttpHead*,
                                   size_t*) noexcept;
  Result<void> read_head(HeadParser parse, std::string* buf, HttpHead* head, size_t* consumed,
                         HttpParse* status, int64_t deadline) noexcept;
  Result<void> write_bytes(std::string_view bytes, int64_t deadline) noexcept;
  // Writes queued frames until the queue is empty (ok) or the socket is full (kAgain).
  // Needs mu_.
  Result<void> flush_locked() noexcept;
  // Flushes until the queue is at most `limit` bytes, waiting up to the deadline.
  Result<void> drain(size_t limit, int64_t deadline) noexcept;
  // Reads until an event the caller wants; `deliver` copies a message out under mu_.
  template <typename Deliver>
  Result<size_t> next_message(int64_t deadline, Deliver&& deliver) noexcept;
  Result<void> done_unguarded(uint16_t status, std::string_view reason, int64_t deadline) noexcept;

  Protocol proto_;  // guarded by mu_
  std::mutex mu_;   // the protocol and the bytestream's read/write; never held in poll()
  int u_;           // the bytestream handle we own
  HandleRef pin_;   // keeps the bytestream object alive until we are destroyed
  Bytestream* bs_;
  int flags_;            // attach flags (WS_TEXT = default type)
  bool broken_ = false;  // guarded by mu_: reset or end of stream without a close frame
  std::atomic<bool> send_busy_{false};
  std::atomic<bool> recv_busy_{false};
};

}  // namespace relay::ws
