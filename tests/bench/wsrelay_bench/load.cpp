// SPDX-License-Identifier: MIT
// The load generator's connections and delivery checks (load.h).
#include "load.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "ws/frame.h"

namespace relay::bench {
namespace {

constexpr int kMaxReadsPerEvent = 4;  // then other sockets get their turn
constexpr size_t kHandshakeReadChunk = 4096;

void append(ByteBuffer& b, std::string_view s) { b.append(as_bytes(s)); }

}  // namespace

Load::Load(const Options& opts) : opts_(opts), scratch_(std::max(opts.size, kMinPayload)) {
  std::string where = opts_.host + ":" + std::to_string(opts_.port);
  auto a = net::parse_address(where);
  RELAY_ASSERT(a.has_value());
  addr_ = *a;
  host_ = where;
  auto r = net::Reactor::create();
  RELAY_ASSERT(r.has_value());
  reactor_ = std::move(r.value());
  reactor_->add_before_sleep(&Load::on_before_sleep, this);
}

Load::~Load() { close_all(); }

// ---- setup -------------------------------------------------------------------------

uint32_t Load::add_channel(std::string name, uint32_t publishers) {
  Channel ch;
  ch.name = std::move(name);
  ch.pub_base = uint32_t(pubs_.size());
  ch.pub_count = publishers;
  const uint32_t index = uint32_t(channels_.size());
  for (uint32_t i = 0; i < publishers; ++i) {
    pubs_.emplace_back();
    pubs_.back().channel = index;
  }
  // HTTP publish heads; the Content-Type decides text or binary on both relays.
  for (int text = 0; text < 2; ++text) {
    ch.http_head[text] = "POST /channels/" + ch.name + " HTTP/1.1\r\nHost: " + host_ +
                         "\r\nContent-Type: " + (text ? "text/plain" : "application/octet-stream") +
                         "\r\nContent-Length: " + std::to_string(opts_.size) + "\r\n\r\n";
  }
  channels_.push_back(std::move(ch));
  return index;
}

void Load::add_ws_publisher(uint32_t channel) {
  Channel& ch = channels_[channel];
  uint32_t id = ch.pub_base;
  while (pubs_[id].conn) ++id;  // the channel's next free publisher id
  RELAY_ASSERT(id < ch.pub_base + ch.pub_count);
  conns_.push_back(std::make_unique<Conn>(this, ConnKind::kWebSocket, channel));
  conns_.back()->pub = int32_t(id);
  pubs_[id].conn = conns_.back().get();
}

void Load::add_http_publisher(uint32_t channel) {
  add_ws_publisher(channel);
  conns_.back()->kind = ConnKind::kHttp;
}

void Load::add_subscriber(uint32_t channel) {
  Channel& ch = channels_[channel];
  ++ch.subscribers;
  Subscriber s{channel, std::vector<Stream>(ch.pub_count)};
  subs_.push_back(std::move(s));
  conns_.push_back(std::make_unique<Conn>(this, ConnKind::kWebSocket, channel));
  conns_.back()->sub = int32_t(subs_.size() - 1);
}

bool Load::connect_all() {
  to_connect_.clear();
  for (auto& c : conns_)
    if (c->state == ConnState::kIdle) to_connect_.push_back(c.get());
  next_connect_ = 0;
  const size_t target = open_ + to_connect_.size();
  start_more_connects();
  const bool done = run_until([&] { return open_ == target || setup_failed_; },
                              int64_t(opts_.setup_timeout_s * 1000));
  if (!done && error.empty()) {
    error = "setup timed out: " + std::to_string(open_) + " of " + std::to_string(target) + " open";
  }
  return done && !setup_failed_;
}

void Load::start_more_connects() noexcept {
  while (connecting_ < opts_.concurrency && next_connect_ < to_connect_.size() && !setup_failed_) {
    start_connect(to_connect_[next_connect_++]);
  }
}

void Load::start_connect(Conn* c) noexcept {
  c->connect_ns = monotonic_ns();
  auto fd = net::connect_tcp(addr_);
  if (!fd) {
    ++counters_.connect_failures;
    setup_failed_ = true;
    error = std::string("connect: ") + std::strerror(to_errno(fd.error()));
    return;
  }
  c->fd = *fd;
  (void)net::set_tcp_nodelay(c->fd);
  c->state = ConnState::kConnecting;
  ++connecting_;
  if (!reactor_->add(c->fd, net::kWritable, &Load::on_io, c)) {
    connect_done(c, false);
    return;
  }
  c->want_write = true;
}

void Load::connect_done(Conn* c, bool ok) noexcept {
  --connecting_;
  if (ok) {
    ++open_;
    handshake_.record(monotonic_ns() - c->connect_ns);
  } else {
    ++counters_.connect_failures;
    setup_failed_ = true;
    if (error.empty()) error = "a connection or upgrade failed";
    drop(c);
  }
  start_more_connects();
}

// ---- I/O -----------------------------------------------------------------------------

void Load::on_io(int, uint32_t events, void* data) noexcept {
  auto* c = static_cast<Conn*>(data);
  Load* self = c->load;
  switch (c->state) {
    case ConnState::kConnecting:
      if (net::socket_error(c->fd) != 0) {
        self->connect_done(c, false);
        return;
      }
      self->on_connected(c);
      return;
    case ConnState::kHandshake:
      if (events & net::kWritable) self->flush(c);
      if (c->state == ConnState::kHandshake && (events & (net::kReadable | net::kError)))
        self->read_handshake(c);
      return;
    case ConnState::kOpen:
      if (events & net::kWritable) self->flush(c);
      if (c->state != ConnState::kOpen || !(events & (net::kReadable | net::kError))) return;
      if (c->kind == ConnKind::kHttp)
        self->read_http(c);
      else
        self->read_frames(c);
      return;
    case ConnState::kIdle:
    case ConnState::kClosed:
      return;
  }
}

void Load::on_connected(Conn* c) noexcept {
  c->want_write = false;
  (void)reactor_->modify(c->fd, net::kReadable);
  if (c->kind == ConnKind::kHttp) {
    c->state = ConnState::kOpen;
    connect_done(c, true);
    return;
  }
  // RFC 6455 §4.1: the opening handshake, with a fresh key per connection.
  ws::make_key(c->key);
  std::string req;
  std::string target = "/channels/" + channels_[c->channel].name;
  if (!opts_.token.empty()) target += "?token=" + opts_.token;  // auth.mode required
  ws::build_client_request(&req, target, host_, c->key, {}, {},
                           opts_.deflate ? ws::deflate_client_offer() : std::string());
  append(c->out, req);
  c->state = ConnState::kHandshake;
  flush(c);
}

void Load::read_handshake(Conn* c) noexcept {
  auto space = c->in.space(kHandshakeReadChunk);
  ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    connect_done(c, false);
    return;
  }
  c->in.commit(size_t(n));
  ws::HttpHead head;
  size_t head_len = 0;
  switch (ws::parse_response({c->in.data(), c->in.size()}, ws::HttpLimits{}, &head, &head_len)) {
    case ws::HttpParse::kNeedMore:
      return;
    case ws::HttpParse::kBad:
    case ws::HttpParse::kTooLarge:
    case ws::HttpParse::kVersion:
      connect_done(c, false);
      return;
    case ws::HttpParse::kComplete:
      break;
  }
  ws::DeflateParams deflate;
  if (!ws::check_upgrade_response(head, c->key, {}, opts_.deflate ? &deflate : nullptr)) {
    if (error.empty()) error = "upgrade refused: HTTP " + std::to_string(head.status);
    connect_done(c, false);
    return;
  }
  if (opts_.deflate && !deflate.enabled) {
    if (error.empty()) error = "permessage-deflate declined (is compression enabled?)";
    connect_done(c, false);
    return;
  }
  c->proto = std::make_unique<ws::Protocol>(ws::Role::kClient);
  // Publishers send plain frames; what the relay compresses is inflated here.
  c->proto->set_deflate(deflate);
  c->in.consume(head_len);
  // Frames may follow the 101 in the same read.
  if (!c->in.empty()) c->proto->feed({c->in.data(), c->in.size()});
  c->in.clear();
  c->in.shrink_if_empty();
  c->state = ConnState::kOpen;
  connect_done(c, true);
  if (c->proto->has_buffered_input()) read_frames(c);
}

void Load::read_frames(Conn* c) noexcept {
  for (int round = 0; round < kMaxReadsPerEvent && c->state == ConnState::kOpen; ++round) {
    auto space = c->proto->input_space(opts_.read_chunk);
    ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      drop(c);
      return;
    }
    c->proto->commit_input(size_t(n));
    counters_.wire_bytes_in += size_t(n);
    const int64_t now = monotonic_ns();  // one clock read per recv, not per frame
    for (;;) {
      ws::Event ev = c->proto->poll_event();
      if (ev.kind == ws::EventKind::kNeedMore) break;
      if (ev.kind == ws::EventKind::kMessage) {
        on_message(c, ev.text, ev.payload, now);
      } else if (ev.kind == ws::EventKind::kClose || ev.kind == ws::EventKind::kError) {
        drop(c);
        return;
      }
      // kPing: the engine queued the pong; kPong: nothing to do.
    }
    if (c->proto->has_pending_output()) take_protocol_output(c);
    if (size_t(n) < space.size()) break;
  }
}

// Control frames the engine queued (pongs) join our byte stream, after whole frames.
void Load::take_protocol_output(Conn* c) {
  OutQueue& q = c->proto->out();
  iovec iov[16];
  while (!q.empty()) {
    int n = q.gather(iov, 16);
    size_t bytes = 0;
    for (int i = 0; i < n; ++i) {
      c->out.append({static_cast<const std::byte*>(iov[i].iov_base), iov[i].iov_len});
      bytes += iov[i].iov_len;
    }
    q.consume(bytes);
    if (n == 0) break;
  }
  mark_dirty(c);
}

void Load::on_message(Conn* c, bool text, std::span<const std::byte> payload,
                      int64_t now) noexcept {
  if (c->sub < 0) {
    ++counters_.misrouted;  // a publisher got a message: an echo it did not ask for
    return;
  }
  MessageId id;
  if (!decode_payload(reinterpret_cast<const char*>(payload.data()), payload.size(), opts_.size,
                      &id)) {
    ++counters_.corrupt;
    return;
  }
  Subscriber& s = subs_[size_t(c->sub)];
  const Channel& ch = channels_[s.channel];
  const uint32_t k = id.publisher - ch.pub_base;
  if (id.publisher < ch.pub_base || k >= ch.pub_count) {
    ++counters_.misrouted;
    return;
  }
  Publisher& p = pubs_[id.publisher];
  if (id.seq >= p.next_seq) {
    ++counters_.corrupt;  // never sent
    return;
  }
  if (text != is_text(opts_.type, id.seq)) ++counters_.retyped;
  Stream& st = s.streams[k];
  const size_t word = id.seq >> 6;
  if (word >= st.seen.size()) st.seen.resize(std::max(word + 1, st.seen.size() * 2), 0);
  const uint64_t bit = uint64_t(1) << (id.seq & 63);
  if (st.seen[word] & bit) {
    ++counters_.duplicated;
    return;
  }
  st.seen[word] |= bit;
  ++st.distinct;
  if (id.seq < st.next)
    ++counters_.reordered;
  else
    st.next = id.seq + 1;
  ++counters_.deliveries;
  const bool measured = id.seq >= p.measure_from;
  if (measured) {
    ++counters_.measured_deliveries;
    latency_.record(now - id.sent_ns);
  }
  if (++p.receivers[id.seq] == ch.subscribers) {
    ++p.completed;
    if (measured) last_.record(now - id.sent_ns);
  }
}

void Load::read_http(Conn* c) noexcept {
  auto space = c->in.space(kHandshakeReadChunk);
  ssize_t n = ::recv(c->fd, space.data(), space.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    drop(c);
    return;
  }
  c->in.commit(size_t(n));
  const uint32_t expected = channels_[c->channel].subscribers;
  for (;;) {
    ws::HttpHead head;
    size_t head_len = 0;
    ws::HttpParse r =
        ws::parse_response({c->in.data(), c->in.size()}, ws::HttpLimits{}, &head, &head_len);
    if (r == ws::HttpParse::kNeedMore) return;
    if (r != ws::HttpParse::kComplete) {
      ++counters_.http_bad_responses;
      drop(c);
      return;
    }
    std::string_view cl = head.header("content-length");
    size_t body_len = 0;
    std::from_chars(cl.data(), cl.data() + cl.size(), body_len);
    if (c->in.size() < head_len + body_len) return;
    std::string_view body(reinterpret_cast<const char*>(c->in.data()) + head_len, body_len);
    // Both relays answer {"delivered":N}; N must be the channel's subscriber count.
    uint32_t delivered = UINT32_MAX;
    if (size_t at = body.find("\"delivered\":"); at != std::string_view::npos) {
      std::string_view num = body.substr(at + 12);
      while (!num.empty() && num.front() == ' ') num.remove_prefix(1);
      std::from_chars(num.data(), num.data() + num.size(), delivered);
    }
    if (head.status != 200 || delivered != expected) ++counters_.http_bad_responses;
    ++counters_.http_responses;
    c->in.consume(head_len + body_len);
    if (c->outstanding) --c->outstanding;
  }
}

void Load::mark_dirty(Conn* c) noexcept {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c);
}

void Load::set_writable(Conn* c, bool on) noexcept {
  if (c->want_write == on) return;
  c->want_write = on;
  (void)reactor_->modify(c->fd, net::kReadable | (on ? net::kWritable : 0));
}

void Load::flush(Conn* c) noexcept {
  while (!c->out.empty()) {
    ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_writable(c, true);
        return;
      }
      drop(c);
      return;
    }
    c->out.consume(size_t(n));
  }
  set_writable(c, false);
}

void Load::drop(Conn* c) noexcept {
  if (c->state == ConnState::kClosed) return;
  if (c->state == ConnState::kOpen) {
    ++counters_.disconnects;
    --open_;
  }
  if (c->fd >= 0) {
    reactor_->remove(c->fd);
    ::close(c->fd);
    c->fd = -1;
  }
  c->state = ConnState::kClosed;
}

void Load::on_before_sleep(void* data) noexcept {
  auto* self = static_cast<Load*>(data);
  if (self->on_turn_) self->on_turn_();
  for (size_t i = 0; i < self->dirty_.size(); ++i) {
    Conn* c = self->dirty_[i];
    c->dirty = false;
    if (c->state == ConnState::kOpen) self->flush(c);
  }
  self->dirty_.clear();
}

// ---- publishing ------------------------------------------------------------------------

void Load::publish(uint32_t id, int64_t now_ns) {
  Publisher& p = pubs_[id];
  Conn* c = p.conn;
  if (!c || c->state != ConnState::kOpen) return;
  const uint32_t seq = p.next_seq++;
  p.receivers.push_back(0);
  if (seq >= p.measure_from) ++counters_.measured_messages;
  const bool text = is_text(opts_.type, seq);
  const MessageId mid{now_ns, id, seq};
  if (c->kind == ConnKind::kHttp) {
    const std::string& head = channels_[p.channel].http_head[text ? 1 : 0];
    auto space = c->out.space(head.size() + opts_.size);
    std::memcpy(space.data(), head.data(), head.size());
    encode_payload(reinterpret_cast<char*>(space.data() + head.size()), opts_.size, mid);
    c->out.commit(head.size() + opts_.size);
    ++c->outstanding;
  } else {
    // RFC 6455 §5.2-5.3: one FIN frame, masked with a fresh key (the engine's codec).
    const uint32_t key = ws::random_mask_key();
    auto space = c->out.space(ws::kMaxHeaderBytes + opts_.size);
    const size_t hlen = ws::encode_header(
        space.data(), true, text ? ws::Opcode::kText : ws::Opcode::kBinary, opts_.size, &key);
    encode_payload(reinterpret_cast<char*>(space.data() + hlen), opts_.size, mid);
    ws::apply_mask(space.data() + hlen, opts_.size, key);
    c->out.commit(hlen + opts_.size);
  }
  mark_dirty(c);
}

void Load::start_measure() {
  for (Publisher& p : pubs_) p.measure_from = p.next_seq;
  counters_.measured_deliveries = 0;
  counters_.measured_messages = 0;
  counters_.http_responses = 0;
  latency_.reset();
  last_.reset();
}

bool Load::all_completed() const noexcept {
  for (const Publisher& p : pubs_)
    if (p.completed != p.next_seq) return false;
  return true;
}

uint64_t Load::in_flight_http() const noexcept {
  uint64_t n = 0;
  for (const auto& c : conns_)
    if (c->kind == ConnKind::kHttp && c->state == ConnState::kOpen) n += c->outstanding;
  return n;
}

uint64_t Load::published() const noexcept {
  uint64_t n = 0;
  for (const Publisher& p : pubs_) n += p.next_seq;
  return n;
}

uint64_t Load::count_lost() const noexcept {
  uint64_t lost = 0;
  for (const Subscriber& s : subs_) {
    const Channel& ch = channels_[s.channel];
    for (uint32_t k = 0; k < ch.pub_count; ++k)
      lost += pubs_[ch.pub_base + k].next_seq - s.streams[k].distinct;
  }
  return lost;
}

bool Load::run_until(const std::function<bool()>& pred, int64_t timeout_ms) {
  const int64_t deadline = monotonic_ms() + timeout_ms;
  while (!pred()) {
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) return false;
    reactor_->run_once(int(std::min<int64_t>(left, max_wait_ms_)));
  }
  return true;
}

void Load::close_all() noexcept {
  for (auto& c : conns_) {
    if (c->fd < 0) continue;
    // SO_LINGER 0: a reset instead of FIN, so thousands of runs leave no TIME_WAIT
    // sockets holding local ports.
    linger l{1, 0};
    (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    reactor_->remove(c->fd);
    ::close(c->fd);
    c->fd = -1;
    c->state = ConnState::kClosed;
  }
  open_ = 0;
}

}  // namespace relay::bench
