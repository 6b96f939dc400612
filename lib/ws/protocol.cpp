// SPDX-License-Identifier: MIT
// ws::Protocol: the sans-I/O connection state machine (RFC 6455 §5-§7). Input bytes
// are decoded incrementally and unmasked in place; a message that is one frame is
// returned as a view into the input buffer (zero copy), fragments are reassembled.
// Output is encoded into FrameRefs on the OutQueue. No syscalls, no clock, no logging.
#include "ws/protocol.h"

#include <algorithm>
#include <cstring>

#include "base/bytes.h"
#include "ws/deflate.h"

namespace relay::ws {

namespace {

bool is_data_opcode(uint8_t op) noexcept { return op == 0x1 || op == 0x2; }

// RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved.
bool is_known_opcode(uint8_t op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

// zlib state of one connection: the inflater of the peer's messages, and a deflater for
// send_message() when compress_sends is set. Both allocate zlib's memory on first use.
struct Protocol::DeflateState {
  explicit DeflateState(int inflate_bits) : inflater(inflate_bits) {}
  Inflater inflater;
  std::unique_ptr<Deflater> deflater;
};

Protocol::Protocol(Role role, const Limits& limits) : limits_(limits), role_(role) {}

Protocol::~Protocol() = default;

bool Protocol::holds_deflate_state() const noexcept {
  return deflate_state_ && (deflate_state_->inflater.allocated() || deflate_state_->deflater);
}

void Protocol::set_deflate(const DeflateParams& p, bool compress_sends) noexcept {
  deflate_ = p;
  compress_sends_ = p.enabled && compress_sends;
  deflate_state_.reset();
}

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
  if (!assembling()) {
    message_.clear();
    message_.shrink_if_empty();
  }
}

// Validates a decoded header before any of its payload is waited for, so an oversized
// or malformed frame is refused at once.
bool Protocol::check_header(const FrameHeader& h, Failure* why) const noexcept {
  *why = Failure::kProtocol;
  const auto op = static_cast<uint8_t>(h.opcode);
  // RFC 6455 §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated". RFC 7692 §6:
  // permessage-deflate gives RSV1 a meaning on the first frame of a data message only
  // (§6.1: control frames and continuations with RSV1 are errors); RSV2-3 stay unused.
  if ((h.rsv & 0x3) != 0) return false;
  if ((h.rsv & 0x4) != 0 && (!deflate_.enabled || !is_data_opcode(op))) return false;
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
  // A compressed message's inflated size is capped while inflating (inflate_into_message);
  // here each of its frames is held to the limit on its own.
  const uint64_t before =
      h.opcode == Opcode::kContinuation && !message_compressed_ ? message_.size() : 0;
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
    // RFC 7692 §6.2: a compressed message is inflated into message_, never in place.
    message_compressed_ = (h.rsv & 0x4) != 0;
    frame_in_place_ = h.fin && !message_compressed_;
  } else {
    ++message_fragments_;
    frame_in_place_ = false;
  }
}

Event Protocol::poll_event() {
  apply_pending_consume();
  if (input_ended()) return {};
  // A reassembled message returned by the previous call is released now.
  if (!assembling() && !message_.empty()) message_.clear();
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
    if (message_compressed_) {
      const bool last = frame_.fin && frame_done_ + n == frame_.payload_len;
      if (Failure why; !inflate_into_message({fresh, n}, last, &why)) return fail(why);
    } else {
      if (message_text_ && !utf8_.feed({fresh, n})) return fail(Failure::kBadUtf8);
      message_.append({fresh, n});
    }
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
  if (message_compressed_) end_compressed_message();
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
  if (!reason.empty())
    peer_reason_ =
        std::make_unique<std::string>(reinterpret_cast<const char*>(reason.data()), reason.size());
  // RFC 6455 §5.5.1: after our close and theirs the handshake is complete; else the
  // caller answers with send_close() and then both are done.
  state_ = close_sent_ ? ProtocolState::kDone : ProtocolState::kPeerClosed;
  Event ev;
  ev.kind = EventKind::kClose;
  ev.code = code;
  ev.payload = reason;
  return ev;
}

// Inflates a piece of a compressed message into message_ (RFC 7692 §7.2.2), the tail
// too when `last`, and UTF-8 checks what came out of a text message. False: *why failed.
bool Protocol::inflate_into_message(std::span<const std::byte> in, bool last, Failure* why) {
  if (!deflate_state_) {
    // The peer's compressor window: the client's when we are the server.
    const uint8_t bits =
        role_ == Role::kServer ? deflate_.client_max_window_bits : deflate_.server_max_window_bits;
    deflate_state_ = std::make_unique<DeflateState>(zlib_window_bits(bits));
  }
  Inflater& inf = deflate_state_->inflater;
  const size_t before = message_.size();
  // The cap is the message limit on the inflated bytes: a deflate bomb ends at 1009
  // having cost at most max_message_bytes (RFC 6455 §10.4).
  InflateStatus st = inf.feed(in, &message_, limits_.max_message_bytes);
  if (st == InflateStatus::kOk && last) st = inf.finish(&message_, limits_.max_message_bytes);
  // UTF-8 first, over what came out within the limit, so that which error closes the
  // connection does not depend on how the input was split into reads.
  const size_t end = std::min(message_.size(), limits_.max_message_bytes);
  if (message_text_ && end > before && !utf8_.feed({message_.data() + before, end - before})) {
    *why = Failure::kBadUtf8;
    return false;
  }
  *why = st == InflateStatus::kTooBig ? Failure::kTooBig : Failure::kBadDeflate;
  return st == InflateStatus::kOk;
}

// After a compressed message: without context takeover the window is not needed again,
// so the memory goes (RFC 7692 §7.1.1: the peer starts each message afresh).
void Protocol::end_compressed_message() noexcept {
  message_compressed_ = false;
  const bool peer_resets = role_ == Role::kServer ? deflate_.client_no_context_takeover
                                                  : deflate_.server_no_context_takeover;
  if (peer_resets && deflate_state_) deflate_state_->inflater.release();
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
  message_compressed_ = false;
  deflate_state_.reset();  // no more input: no inflate state either
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
void Protocol::queue_frame(Opcode op, std::span<const std::span<const std::byte>> parts,
                           uint8_t rsv) {
  size_t len = 0;
  for (const auto& p : parts) len += p.size();
  uint32_t key = 0;
  const bool masked = role_ == Role::kClient;
  // RFC 6455 §5.3: a client masks every frame with a fresh, unpredictable key;
  // RFC 6455 §5.1: a server never masks.
  if (masked) key = random_mask_key();
  std::byte header[kMaxHeaderBytes];
  const size_t hlen = encode_header(header, /*fin=*/true, op, len, masked ? &key : nullptr, rsv);
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
  const Opcode op = text ? Opcode::kText : Opcode::kBinary;
  // permessage-deflate: our own compressor window, never context takeover (a sender may
  // always start afresh, RFC 7692 §7.1.1). zlib cannot write an 8-bit window, so a peer
  // that asked for one gets plain frames (always allowed, §6).
  const uint8_t bits =
      role_ == Role::kServer ? deflate_.server_max_window_bits : deflate_.client_max_window_bits;
  if (compress_sends_ && bits >= 9) {
    size_t len = 0;
    for (const auto& p : parts) len += p.size();
    if (!deflate_state_) {
      const uint8_t peer = role_ == Role::kServer ? deflate_.client_max_window_bits
                                                  : deflate_.server_max_window_bits;
      deflate_state_ = std::make_unique<DeflateState>(zlib_window_bits(peer));
    }
    auto& d = deflate_state_->deflater;
    if (!d) d = std::make_unique<Deflater>(kDefaultDeflateLevel, bits);
    std::span<const std::byte> z = d->compress(parts);
    // Only when it pays: an empty result is a zlib failure, a larger one incompressible.
    if (!z.empty() && z.size() < len) {
      const std::span<const std::byte> one[1] = {z};
      queue_frame(op, one, /*rsv=*/0x4);  // RFC 7692 §6: RSV1 on the first frame
      return {};
    }
  }
  queue_frame(op, parts);
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
