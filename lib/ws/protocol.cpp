// SPDX-License-Identifier: MIT
// ws::Protocol: the sans-I/O connection state machine (RFC 6455 §5-§7). Input bytes
// are decoded incrementally and unmasked in place; a message that is one frame is
// returned as a view into the input buffer (zero copy), fragments are reassembled.
// Output is encoded into FrameRefs on the OutQueue. No syscalls, no clock, no logging.
#include "ws/protocol.h"

#include <algorithm>
#include <cstring>

#include "base/bytes.h"

namespace relay::ws {

namespace {

bool is_data_opcode(uint8_t op) noexcept { return op == 0x1 || op == 0x2; }

// RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved.
bool is_known_opcode(uint8_t op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

Protocol::Protocol(Role role, const Limits& limits) : limits_(limits), role_(role) {}

// ---------------------------------------------------------------------------- input

void Protocol::apply_pending_consume() noexcept {
  if (pending_consume_ != 0) {
    in_.consume(pending_consume_);
    pending_consume_ = 0;
  }
}

std::span<std::byte> Protocol::input_space(size_t min) {
  apply_pending_consume();
  return in_.space(min);
}

void Protocol::commit_input(size_t n) noexcept {
  // After the peer's close or a failure nothing more is read (RFC 6455 §5.5.1: no data
  // after a close frame; §7.1.7: a failed connection stops processing), so the bytes
  // are dropped and memory stays bounded whatever the caller keeps reading.
  if (input_ended()) return;
  in_.commit(n);
}

void Protocol::feed(std::span<const std::byte> bytes) {
  if (input_ended() || bytes.empty()) return;
  apply_pending_consume();
  in_.append(bytes);
}

bool Protocol::has_buffered_input() const noexcept {
  return !input_ended() && in_.size() > pending_consume_;
}

void Protocol::shrink_idle() noexcept {
  apply_pending_consume();
  in_.shrink_if_empty();
  if (!in_message_) {
    message_.clear();
    message_.shrink_if_empty();
  }
}

// Validates a decoded header before any of its payload is waited for, so an oversized
// or malformed frame is refused at once.
bool Protocol::check_header(const FrameHeader& h, Failure* why) const noexcept {
  *why = Failure::kProtocol;
  const auto op = static_cast<uint8_t>(h.opcode);
  // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; none is.
  if (h.rsv != 0) return false;
  // RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint MUST
  // _Fail the WebSocket Connection_."
  if (!is_known_opcode(op)) return false;
  // RFC 6455 §5.1: a server MUST close on an unmasked client frame; a client MUST
  // close on a masked server frame.
  if (h.masked != (role_ == Role::kServer)) return false;
  if (is_control(h.opcode)) {
    // RFC 6455 §5.5: control frames have a payload of at most 125 bytes and MUST NOT
    // be fragmented.
    if (!h.fin || h.payload_len > kMaxControlPayload) return false;
    // RFC 6455 §5.5.1: a close body starts with a 2-byte code, so 1 byte is malformed.
    if (h.opcode == Opcode::kClose && h.payload_len == 1) return false;
    return true;
  }
  // RFC 6455 §5.4: a continuation needs a started message, and a new text or binary
  // frame may not start while a fragmented message is unfinished.
  if (h.opcode == Opcode::kContinuation && !in_message_) return false;
  if (is_data_opcode(op) && in_message_) return false;
  // RFC 6455 §10.4: an endpoint may refuse oversized messages, closing with 1009
  // (§7.4.1). Checked from the header, before the payload is buffered.
  *why = Failure::kTooBig;
  const uint64_t before = h.opcode == Opcode::kContinuation ? message_.size() : 0;
  if (h.payload_len >
      limits_.max_message_bytes - std::min<uint64_t>(before, limits_.max_message_bytes))
    return false;
  const size_t fragments = h.opcode == Opcode::kContinuation ? message_fragments_ + 1 : 1;
  if (fragments > limits_.max_fragments) return false;
  return true;
}

// Bookkeeping when a header is accepted: where the payload goes and message state.
void Protocol::start_frame(const FrameHeader& h) {
  frame_ = h;
  frame_active_ = true;
  frame_done_ = 0;
  if (is_control(h.opcode)) {
    frame_in_place_ = true;  // RFC 6455 §5.4: control frames may sit between fragments
    return;
  }
  if (h.opcode != Opcode::kContinuation) {
    message_text_ = h.opcode == Opcode::kText;
    message_fragments_ = 1;
    utf8_.reset();
    message_.clear();
    // RFC 6455 §5.4: FIN set on the first frame = an unfragmented message.
    in_message_ = !h.fin;
    frame_in_place_ = h.fin;
  } else {
    ++message_fragments_;
    frame_in_place_ = false;
  }
}

Event Protocol::poll_event() {
  apply_pending_consume();
  if (input_ended()) return {};
  // A reassembled message returned by the previous call is released now.
  if (!in_message_ && !message_.empty()) message_.clear();
  for (;;) {
    if (!frame_active_) {
      FrameHeader h;
      const HeaderStatus hs = decode_header(in_.readable(), &h);
      if (hs == HeaderStatus::kNeedMore) return {};
      if (hs == HeaderStatus::kBadLength) return fail(Failure::kProtocol);  // RFC 6455 §5.2
      Failure why;
      if (!check_header(h, &why)) return fail(why);
      in_.consume(h.header_len);
      start_frame(h);
    }
    // Unmask (RFC 6455 §5.3) and UTF-8 check (§8.1) whatever payload has arrived.
    const uint64_t want = frame_.payload_len - frame_done_;
    if (frame_in_place_) {
      const size_t have = static_cast<size_t>(std::min<uint64_t>(in_.size(), frame_.payload_len));
      std::byte* fresh = in_.data() + frame_done_;
      const size_t n = have - static_cast<size_t>(frame_done_);
      if (frame_.masked) apply_mask(fresh, n, frame_.mask_key, frame_done_ & 3);
      frame_done_ = have;
      // §8.1 fail fast: a text message is refused at its first impossible byte.
      if (frame_.opcode == Opcode::kText && !utf8_.feed({fresh, n})) return fail(Failure::kBadUtf8);
      if (frame_done_ < frame_.payload_len) return {};
      return finish_frame();
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(in_.size(), want));
    std::byte* fresh = in_.data();
    if (frame_.masked) apply_mask(fresh, n, frame_.mask_key, frame_done_ & 3);
    if (message_text_ && !utf8_.feed({fresh, n})) return fail(Failure::kBadUtf8);
    message_.append({fresh, n});
    in_.consume(n);
    frame_done_ += n;
    if (frame_done_ < frame_.payload_len) return {};
    if (!frame_.fin) {
      frame_active_ = false;  // RFC 6455 §5.4: more fragments follow
      continue;
    }
    return finish_frame();
  }
}

// The current frame's payload is whole: turn it into an event.
Event Protocol::finish_frame() {
  frame_active_ = false;
  Event ev;
  if (frame_in_place_) {
    const size_t len = static_cast<size_t>(frame_.payload_len);
    std::span<std::byte> payload(in_.data(), len);
    pending_consume_ = len;  // released by the next call
    switch (frame_.opcode) {
      case Opcode::kPing:
        // RFC 6455 §5.5.2-3: answer with a pong carrying the same data, unless our
        // close frame has gone out (§5.5.1: nothing may follow it).
        if (!close_sent_) (void)queue_control(Opcode::kPong, payload);
        ev.kind = EventKind::kPing;
        ev.payload = payload;
        return ev;
      case Opcode::kPong:
        // RFC 6455 §5.5.3: an unsolicited pong needs no answer.
        ev.kind = EventKind::kPong;
        ev.payload = payload;
        return ev;
      case Opcode::kClose:
        return on_close_frame(payload);
      default:
        break;
    }
    // RFC 6455 §8.1: a text message that ends inside a UTF-8 sequence is invalid.
    if (frame_.opcode == Opcode::kText && !utf8_.complete()) return fail(Failure::kBadUtf8);
    ev.kind = EventKind::kMessage;
    ev.text = frame_.opcode == Opcode::kText;
    ev.payload = payload;
    return ev;
  }
  // The last fragment of a reassembled message (RFC 6455 §5.4).
  if (message_text_ && !utf8_.complete()) return fail(Failure::kBadUtf8);
  in_message_ = false;
  ev.kind = EventKind::kMessage;
  ev.text = message_text_;
  ev.payload = message_.readable();
  return ev;
}

Event Protocol::on_close_frame(std::span<std::byte> payload) {
  uint16_t code = close_code::kNone;
  std::span<const std::byte> reason;
  if (payload.size() >= 2) {
    // RFC 6455 §5.5.1: a 2-byte status code in network byte order, then the reason.
    code = static_cast<uint16_t>((std::to_integer<unsigned>(payload[0]) << 8) |
                                 std::to_integer<unsigned>(payload[1]));
    // RFC 6455 §7.4.1-2: codes that may not appear on the wire are a protocol error.
    if (!is_valid_wire_code(code)) return fail(Failure::kProtocol);
    reason = payload.subspan(2);
    // RFC 6455 §5.5.1: the reason is UTF-8; invalid data closes with 1007 (§7.4.1).
    if (!is_valid_utf8(reason)) return fail(Failure::kBadUtf8);
  }
  close_received_ = true;
  peer_code_ = code;
  peer_reason_.assign(reinterpret_cast<const char*>(reason.data()), reason.size());
  // RFC 6455 §5.5.1: after our close and theirs the handshake is complete; else the
  // caller answers with send_close() and then both are done.
  state_ = close_sent_ ? ProtocolState::kDone : ProtocolState::kPeerClosed;
  Event ev;
  ev.kind = EventKind::kClose;
  ev.code = code;
  ev.payload = reason;
  return ev;
}

// RFC 6455 §7.1.7: to _Fail the WebSocket Connection_ an endpoint sends a close frame
// with a suitable code (unless one was sent already) and stops reading.
Event Protocol::fail(Failure f) {
  failure_code_ = close_code_for(f);
  const std::string_view reason = close_reason_for(f);
  if (!close_sent_) {
    uint8_t body[2 + 123];
    body[0] = static_cast<uint8_t>(failure_code_ >> 8);
    body[1] = static_cast<uint8_t>(failure_code_);
    std::memcpy(body + 2, reason.data(), reason.size());
    (void)queue_control(Opcode::kClose,
                        {reinterpret_cast<const std::byte*>(body), 2 + reason.size()});
    close_sent_ = true;
  }
  state_ = ProtocolState::kFailed;
  frame_active_ = false;
  in_message_ = false;
  pending_consume_ = 0;
  in_.clear();
  message_.clear();
  Event ev;
  ev.kind = EventKind::kError;
  ev.code = failure_code_;
  ev.payload = as_bytes(reason);
  return ev;
}

// --------------------------------------------------------------------------- output

// Encodes one final frame whose payload is the concatenated parts, and queues it. Every
// frame is a fresh FrameRef: a client frame's payload is XORed with the key inside it, so
// it may never share bytes.
void Protocol::queue_frame(Opcode op, std::span<const std::span<const std::byte>> parts) {
  size_t len = 0;
  for (const auto& p : parts) len += p.size();
  uint32_t key = 0;
  const bool masked = role_ == Role::kClient;
  // RFC 6455 §5.3: a client masks every frame with a fresh, unpredictable key;
  // RFC 6455 §5.1: a server never masks.
  if (masked) key = random_mask_key();
  std::byte header[kMaxHeaderBytes];
  const size_t hlen = encode_header(header, /*fin=*/true, op, len, masked ? &key : nullptr);
  FrameRef f = FrameRef::allocate(hlen + len);
  std::byte* out = f.mutable_bytes().data();
  std::memcpy(out, header, hlen);
  std::byte* dst = out + hlen;
  for (const auto& p : parts) {
    if (!p.empty()) std::memcpy(dst, p.data(), p.size());
    dst += p.size();
  }
  if (masked) apply_mask(out + hlen, len, key);
  out_.push(std::move(f));
}

Result<void> Protocol::queue_control(Opcode op, std::span<const std::byte> payload) {
  // RFC 6455 §5.5: control payloads are at most 125 bytes and never fragmented.
  if (payload.size() > kMaxControlPayload) return relay::fail(Errc::kInvalid);
  const std::span<const std::byte> parts[1] = {payload};
  queue_frame(op, parts);
  return {};
}

Result<void> Protocol::send_message(bool text, std::span<const std::byte> payload) {
  const std::span<const std::byte> parts[1] = {payload};
  return send_message(text, std::span<const std::span<const std::byte>>(parts));
}

Result<void> Protocol::send_message(bool text, std::span<const std::span<const std::byte>> parts) {
  // RFC 6455 §5.5.1: after sending a close frame the endpoint MUST NOT send more data.
  if (close_sent_) return relay::fail(Errc::kPipe);
  if (text) {
    // RFC 6455 §5.6: text frames carry UTF-8; refuse to send what the peer must reject.
    Utf8Validator v;
    for (const auto& p : parts)
      if (!v.feed(p)) return relay::fail(Errc::kInvalid);
    if (!v.complete()) return relay::fail(Errc::kInvalid);
  }
  queue_frame(text ? Opcode::kText : Opcode::kBinary, parts);
  return {};
}

Result<void> Protocol::send_prepared(const FrameRef& frame) {
  // Prepared frames are unmasked, which only a server may send (RFC 6455 §5.1).
  if (role_ != Role::kServer || !frame) return relay::fail(Errc::kInvalid);
  if (close_sent_) return relay::fail(Errc::kPipe);  // RFC 6455 §5.5.1
  out_.push(frame);
  return {};
}

Result<void> Protocol::send_ping(std::span<const std::byte> payload) {
  if (close_sent_) return relay::fail(Errc::kPipe);  // RFC 6455 §5.5.1
  return queue_control(Opcode::kPing, payload);
}

Result<void> Protocol::send_close(uint16_t code, std::string_view reason) {
  if (close_sent_) return relay::fail(Errc::kPipe);  // RFC 6455 §5.5.1: one close frame
  uint8_t body[kMaxControlPayload];
  size_t len = 0;
  if (code == close_code::kNone) {
    // No code means no body at all (RFC 6455 §5.5.1), so no reason either.
    if (!reason.empty()) return relay::fail(Errc::kInvalid);
  } else {
    // RFC 6455 §7.4: only codes valid on the wire; §5.5: code + reason <= 125 bytes;
    // §5.5.1: the reason is UTF-8.
    if (!is_sendable_code(code) || reason.size() > kMaxControlPayload - 2 ||
        !is_valid_utf8(as_bytes(reason)))
      return relay::fail(Errc::kInvalid);
    body[0] = static_cast<uint8_t>(code >> 8);
    body[1] = static_cast<uint8_t>(code);
    if (!reason.empty()) std::memcpy(body + 2, reason.data(), reason.size());
    len = 2 + reason.size();
  }
  (void)queue_control(Opcode::kClose, {reinterpret_cast<const std::byte*>(body), len});
  close_sent_ = true;
  // RFC 6455 §7.1.2-3: after both close frames the connection is closed.
  state_ = state_ == ProtocolState::kPeerClosed ? ProtocolState::kDone : ProtocolState::kClosing;
  return {};
}

}  // namespace relay::ws
