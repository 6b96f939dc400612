// SPDX-License-Identifier: MIT
// Cross-worker publish, subscribe and control (see worker_broker.h).
#include "worker_broker.h"

#include <bit>
#include <utility>

#include "base/assert.h"

namespace relay::daemon {

WorkerBroker::WorkerBroker(WorkerHub& hub, uint32_t self, net::Reactor& reactor, LocalFanout& local,
                           std::function<void(Envelope::Kind)> control)
    : hub_(hub),
      self_(self),
      reactor_(reactor),
      local_(local),
      control_(std::move(control)),
      retry_(reactor, &WorkerBroker::on_retry, this),
      overflow_(hub.size()) {
  const bool added =
      reactor_.add(hub_.wake(self_).fd(), net::kReadable, &on_wake, this).has_value();
  RELAY_ASSERT(added);
}

WorkerBroker::~WorkerBroker() { reactor_.remove(hub_.wake(self_).fd()); }

std::shared_ptr<const SharedMessage> WorkerBroker::share(const Message& m, uint32_t origin) {
  auto s = std::make_shared<SharedMessage>();
  s->channel.assign(m.channel);
  s->payload.assign(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
  s->stamp_ns = m.stamp_ns;
  s->sender = m.sender;
  s->origin = origin;
  s->kind = m.kind;
  s->echo = m.echo;
  return s;
}

void WorkerBroker::publish(const Message& m, PublishDone done) {
  const uint32_t owner = hub_.owner_of(m.channel);
  if (owner == self_) {
    if (overflowing_ > kMaxOverflow) {
      if (done) done(PublishResult{false, 0, 0});
      return;
    }
    const PublishResult r = publish_owned(m, nullptr);
    if (done) done(r);
    return;
  }
  // To the owner; refused at once when its inbox is full (or hand-offs to it wait already,
  // which a publish must not overtake).
  Envelope e;
  e.kind = Envelope::Kind::kPublish;
  e.from = self_;
  e.msg = share(m, self_);
  if (done) e.done = std::make_unique<PublishDone>(std::move(done));
  if (!overflow_[owner].empty() || !hub_.post(owner, e)) {
    if (e.done) (*e.done)(PublishResult{false, 0, 0});
    return;
  }
  ++handoffs_;
}

PublishResult WorkerBroker::publish_owned(
    const Message& m, const std::shared_ptr<const SharedMessage>& shared) noexcept {
  PublishResult r;
  r.delivered = local_.fan_out(m);
  uint64_t to = hub_.pattern_workers();
  if (auto it = interest_.find(m.channel); it != interest_.end()) to |= it->second;
  to &= ~(uint64_t(1) << self_);
  std::shared_ptr<const SharedMessage> msg = shared;
  while (to) {
    const auto w = uint32_t(std::countr_zero(to));
    to &= to - 1;
    if (!msg) msg = share(m, self_);  // the one copy, made when a first worker needs it
    Envelope e;
    e.kind = Envelope::Kind::kDeliver;
    e.from = self_;
    e.msg = msg;
    send(w, e);
    ++r.delivered;  // the worker's own count is not known here
  }
  return r;
}

void WorkerBroker::subscribe(std::string_view channel) { tell_owner(channel, true); }

void WorkerBroker::unsubscribe(std::string_view channel) { tell_owner(channel, false); }

// This worker's interest in `channel` goes to the channel's owner (or is set here).
void WorkerBroker::tell_owner(std::string_view channel, bool on) {
  const uint32_t owner = hub_.owner_of(channel);
  if (owner == self_) return set_interest(channel, self_, on);
  Envelope e;
  e.kind = on ? Envelope::Kind::kSubscribe : Envelope::Kind::kUnsubscribe;
  e.from = self_;
  e.channel.assign(channel);
  send(owner, e);
}

void WorkerBroker::set_interest(std::string_view channel, uint32_t worker, bool on) {
  const uint64_t bit = uint64_t(1) << worker;
  auto it = interest_.find(channel);
  if (on) {
    if (it == interest_.end()) it = interest_.emplace(std::string(channel), 0).first;
    it->second |= bit;
  } else if (it != interest_.end()) {
    it->second &= ~bit;
    if (it->second == 0) interest_.erase(it);
  }
}

void WorkerBroker::broadcast(Envelope::Kind kind) {
  for (uint32_t w = 0; w < hub_.size(); ++w) {
    if (w == self_) continue;
    Envelope e;
    e.kind = kind;
    e.from = self_;
    send(w, e);
  }
}

void WorkerBroker::send(uint32_t to, Envelope& e) noexcept {
  std::deque<Envelope>& waiting = overflow_[to];
  if (waiting.empty() && hub_.post(to, e)) {
    ++handoffs_;
    return;
  }
  waiting.push_back(std::move(e));
  ++overflowing_;
  if (!retry_.is_armed()) retry_.arm_after(1);
}

bool WorkerBroker::flush_overflow() noexcept {
  for (uint32_t w = 0; w < overflow_.size(); ++w) {
    std::deque<Envelope>& waiting = overflow_[w];
    while (!waiting.empty() && hub_.post(w, waiting.front())) {
      waiting.pop_front();
      --overflowing_;
      ++handoffs_;
    }
  }
  return overflowing_ == 0;
}

void WorkerBroker::on_retry(void* data) noexcept {
  auto* self = static_cast<WorkerBroker*>(data);
  if (!self->flush_overflow()) self->retry_.arm_after(1);
}

void WorkerBroker::on_wake(int, uint32_t, void* data) noexcept {
  static_cast<WorkerBroker*>(data)->drain_inbox();
}

void WorkerBroker::drain_inbox() noexcept {
  net::EventFd& wake = hub_.wake(self_);
  wake.clear();
  net::MpscQueue<Envelope>& in = hub_.inbox(self_);
  for (int i = 0; i < kBatch; ++i) {
    std::optional<Envelope> e = in.try_pop();
    if (!e) return;
    handle(*e);
  }
  wake.signal();  // more waiting: come back next turn, after the sockets
}

void WorkerBroker::handle(Envelope& e) noexcept {
  switch (e.kind) {
    case Envelope::Kind::kPublish: {
      PublishResult r{false, 0, 0};
      if (overflowing_ <= kMaxOverflow) {
        r = publish_owned(e.msg->view(self_), e.msg);
        // Its own hand-offs to other workers' subscribers were just made; fan-out on this
        // worker was not this worker's publisher's: no pushback probe of that frame.
        (void)local_.take_last_frame();
      }
      if (!e.done) return;
      Envelope reply;
      reply.kind = Envelope::Kind::kReply;
      reply.from = self_;
      reply.done = std::move(e.done);
      reply.result = r;
      send(e.from, reply);  // behind the delivery to the publisher's worker, if any
      return;
    }
    case Envelope::Kind::kDeliver:
      (void)local_.fan_out(e.msg->view(self_));
      (void)local_.take_last_frame();
      return;
    case Envelope::Kind::kReply:
      (*e.done)(e.result);
      return;
    case Envelope::Kind::kSubscribe:
    case Envelope::Kind::kUnsubscribe:
      set_interest(e.channel, e.from, e.kind == Envelope::Kind::kSubscribe);
      return;
    case Envelope::Kind::kDrain:
    case Envelope::Kind::kReload:
      if (control_) control_(e.kind);
      return;
  }
}

}  // namespace relay::daemon
