// SPDX-License-Identifier: MIT
// The Linux epoll backend of the reactor (level-triggered), as Redis src/ae_epoll.c.
// Only this file includes <sys/epoll.h>. It maps epoll bits to net::kReadable,
// kWritable and kError and hands the token back untouched.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "base/assert.h"
#include "net/poll_backend.h"
#include "net/reactor.h"

namespace relay::net {
namespace {

uint32_t to_epoll(uint32_t interest) noexcept {
  uint32_t e = 0;
  if (interest & kReadable) e |= EPOLLIN;
  if (interest & kWritable) e |= EPOLLOUT;
  return e;
}

uint32_t from_epoll(uint32_t e) noexcept {
  uint32_t r = 0;
  if (e & (EPOLLIN | EPOLLPRI)) r |= kReadable;
  if (e & EPOLLOUT) r |= kWritable;
  if (e & (EPOLLERR | EPOLLHUP)) r |= kError;
  return r;
}

Result<void> ctl(int kernel_fd, int op, int fd, uint32_t interest, uint64_t token) noexcept {
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.u64 = token;
  if (epoll_ctl(kernel_fd, op, fd, &ev) != 0) return fail(static_cast<Errc>(errno));
  return {};
}

}  // namespace

Result<PollBackend> PollBackend::open() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return fail(static_cast<Errc>(errno));
  return PollBackend(fd);
}

PollBackend::PollBackend(PollBackend&& o) noexcept : kernel_fd_(std::exchange(o.kernel_fd_, -1)) {}

PollBackend& PollBackend::operator=(PollBackend&& o) noexcept {
  std::swap(kernel_fd_, o.kernel_fd_);
  return *this;
}

PollBackend::~PollBackend() {
  if (kernel_fd_ >= 0) ::close(kernel_fd_);
}

Result<void> PollBackend::add(int fd, uint32_t interest, uint64_t token) noexcept {
  return ctl(kernel_fd_, EPOLL_CTL_ADD, fd, interest, token);
}

Result<void> PollBackend::modify(int fd, uint32_t interest, uint64_t token) noexcept {
  return ctl(kernel_fd_, EPOLL_CTL_MOD, fd, interest, token);
}

void PollBackend::remove(int fd) noexcept {
  epoll_event ev{};  // non-null for kernels before 2.6.9
  (void)epoll_ctl(kernel_fd_, EPOLL_CTL_DEL, fd, &ev);
}

int PollBackend::poll(int timeout_ms, PolledEvent* out, int max) noexcept {
  // Reports are copied out of a stack array so PolledEvent need not match epoll_event's
  // packed layout; max is small (the reactor passes its batch size).
  constexpr int kChunk = 256;
  epoll_event evs[kChunk];
  int n = epoll_wait(kernel_fd_, evs, max < kChunk ? max : kChunk, timeout_ms);
  if (n < 0) {
    RELAY_ASSERT(errno == EINTR);  // anything else is a bug (bad fd, bad args)
    return 0;                      // a signal: the reactor simply turns again
  }
  for (int i = 0; i < n; ++i) out[i] = PolledEvent{evs[i].data.u64, from_epoll(evs[i].events)};
  return n;
}

const char* PollBackend::name() noexcept { return "epoll"; }

}  // namespace relay::net
