// SPDX-License-Identifier: MIT
// ws::Protocol: the sans-I/O WebSocket connection state machine (RFC 6455 §5-7).
// Bytes in -> events out; messages in -> encoded frames in an OutQueue. It never
// touches a socket, a clock or epoll, so the blocking ws_* API (ws.cpp) and the
// daemon's event loop drive the same code. The HTTP upgrade is done before it starts
// (handshake.h). Named after Pushpin's sans-I/O Protocol<T>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/byte_buffer.h"
#include "base/frame_ref.h"
#include "base/out_queue.h"
#include "base/result.h"
#include "ws/close.h"
#include "ws/deflate_offer.h"
#include "ws/frame.h"
#include "ws/utf8.h"

namespace relay::ws {

enum class Role : uint8_t { kServer, kClient };

struct Limits {
  size_t max_message_bytes = 64u << 20;  // reassembled payload; over it: close 1009
  size_t max_fragments = 1u << 20;       // frames in one message; over it: close 1009
};

enum class EventKind : uint8_t {
  kNeedMore,  // no whole event in the buffered input; read more
  kMessage,   // a whole data message (fragments reassembled): text + payload
  kPing,      // a ping arrived (already answered with a pong): payload
  kPong,      // a pong arrived: payload
  kClose,     // the peer's close frame: code (0 = none) + reason; input ends here
  kError,     // the peer broke the protocol: a close frame with `code` is queued and
              // the connection must end once the out-queue is flushed
};

struct Event {
  EventKind kind = EventKind::kNeedMore;
  bool text = false;
  uint16_t code = 0;
  // Message payload, ping/pong data or close reason. Valid until the next call to
  // poll_event(), input_space() or feed().
  std::span<const std::byte> payload;
};

// States, with the calls each allows (as in Pushpin's websocket.rs):
enum class ProtocolState : uint8_t {
  kOpen,        // Call: send, poll_event        Next: kPeerClosed, kClosing, kFailed
  kPeerClosed,  // Call: send, send_close (reply) Next: kDone
  kClosing,     // Call: poll_event (await close) Next: kDone, kFailed
  kDone,        // both close frames exchanged; flush, then close the transport
  kFailed,      // protocol error: close frame queued; flush, then close the transport
};

class Protocol {
 public:
  explicit Protocol(Role role, const Limits& limits = {});
  ~Protocol();
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;

  Role role() const noexcept { return role_; }
  ProtocolState state() const noexcept { return state_; }
  const Limits& limits() const noexcept { return limits_; }
  void set_limits(const Limits& l) noexcept { limits_ = l; }

  // ---- input ----
  // Writable space of at least `min` bytes to read() into, then commit_input(n).
  std::span<std::byte> input_space(size_t min = 4096);
  void commit_input(size_t n) noexcept;
  void feed(std::span<const std::byte> bytes);  // copying convenience
  // Decodes the next event from the buffered input. Pings are answered here.
  Event poll_event();
  bool has_buffered_input() const noexcept;
  // Returns unused input storage (call when idle; invalidates the last event's payload).
  void shrink_idle() noexcept;

  // ---- output ----
  // One message; a server frame is unmasked, a client frame masked with a fresh key.
  // kPipe after send_close() (or a failure); kInvalid for a bad argument, including a
  // text payload that is not valid UTF-8 (RFC 6455 §5.6). Always one frame.
  Result<void> send_message(bool text, std::span<const std::byte> payload);
  // A message gathered from several parts (ws_sendl).
  Result<void> send_message(bool text, std::span<const std::span<const std::byte>> parts);
  // A frame from prepare_server_frame() (server role only): queues a reference.
  Result<void> send_prepared(const FrameRef& frame);
  Result<void> send_ping(std::span<const std::byte> payload);
  // Our close frame. code 0 = no payload; reason <= 123 bytes UTF-8. kPipe if already sent;
  // kInvalid for a code not allowed on the wire or a bad reason.
  Result<void> send_close(uint16_t code, std::string_view reason);

  // What waits to be written: gather() into an iovec, writev, then consume(n).
  OutQueue& out() noexcept { return out_; }
  bool has_pending_output() const noexcept { return !out_.empty(); }

  // ---- close state ----
  bool close_sent() const noexcept { return close_sent_; }
  bool close_received() const noexcept { return close_received_; }
  uint16_t peer_close_code() const noexcept { return peer_code_; }  // 0 = none
  std::string_view peer_close_reason() const noexcept {
    return peer_reason_ ? std::string_view(*peer_reason_) : std::string_view();
  }
  // After kError: the code we closed with.
  uint16_t failure_code() const noexcept { return failure_code_; }

  // ---- permessage-deflate (RFC 7692) ----
  // What the handshake agreed (deflate_offer.h); set before the first frame. With it,
  // RSV1 on the first frame of a data message means a compressed message: it is inflated
  // with the output capped at limits().max_message_bytes (over it: close 1009). The
  // inflate state is allocated at the first compressed message, and freed after each
  // message when the peer does not take context over (else kept for the next one).
  // compress_sends: send_message() compresses what gets smaller (the daemon sends shared
  // frames compressed once per message instead).
  void set_deflate(const DeflateParams& p, bool compress_sends = false) noexcept;
  const DeflateParams& deflate() const noexcept { return deflate_; }
  // True while the connection holds zlib memory (an inflate window, a deflater).
  bool holds_deflate_state() const noexcept;

 private:
  // (implementation state: see protocol.cpp)
  Event fail(Failure f);
  bool input_ended() const noexcept { return state_ == ProtocolState::kFailed || close_received_; }
  bool check_header(const FrameHeader& h, Failure* why) const noexcept;
  void start_frame(const FrameHeader& h);
  Event finish_frame();
  Event on_close_frame(std::span<std::byte> payload);
  void apply_pending_consume() noexcept;
  void queue_frame(Opcode op, std::span<const std::span<const std::byte>> parts, uint8_t rsv = 0);
  bool assembling() const noexcept { return in_message_ || (frame_active_ && !frame_in_place_); }
  bool inflate_into_message(std::span<const std::byte> in, bool last, Failure* why);
  void end_compressed_message() noexcept;
  Result<void> queue_control(Opcode op, std::span<const std::byte> payload);

  // The frame being received. Its header is consumed from in_ as soon as it is whole;
  // frame_done_ payload bytes have been unmasked (and UTF-8 checked) since.
  // In-place frames (a single-frame message, a control frame) keep their payload in
  // in_ until it is whole and is returned as a view; fragments stream into message_.
  // Members are ordered by size (8-byte fields, then the small ones together), so a
  // connection's Protocol is 224 bytes (8 of them the deflate state pointer, 8 the peer's
  // close reason, allocated when one comes), not 280: every idle connection holds one.
  FrameHeader frame_;
  uint64_t frame_done_ = 0;  // payload bytes of frame_ processed so far
  Limits limits_;
  ByteBuffer in_;
  size_t pending_consume_ = 0;  // bytes of in_ behind the last returned event
  ByteBuffer message_;          // reassembly of a fragmented message
  size_t message_fragments_ = 0;
  OutQueue out_;
  std::unique_ptr<std::string> peer_reason_;  // only once a close with a reason came
  Utf8Validator utf8_;
  uint16_t peer_code_ = 0;
  uint16_t failure_code_ = 0;
  Role role_;
  ProtocolState state_ = ProtocolState::kOpen;
  bool frame_active_ = false;    // frame_ holds a decoded header
  bool frame_in_place_ = false;  // payload stays in in_ (else appended to message_)
  bool in_message_ = false;      // a fragmented message has started
  bool message_text_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  // permessage-deflate: the agreed parameters, and zlib state only while needed.
  bool message_compressed_ = false;  // the message being received has RSV1
  bool compress_sends_ = false;
  DeflateParams deflate_;
  struct DeflateState;
  std::unique_ptr<DeflateState> deflate_state_;
};

}  // namespace relay::ws
