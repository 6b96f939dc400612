// SPDX-License-Identifier: MIT
// AcceptPause with a real listener: at the fd limit the listener's callback pauses
// instead of spinning, the interest comes back after the pause, and the waiting
// connection is accepted then.
#include "net/accept_pause.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "base/clock.h"
#include "net/socket.h"

namespace relay::net {
namespace {

struct Server {
  AcceptPause* pause = nullptr;
  int callbacks = 0;
  int accepted = -1;
  bool tight = false;  // the fd limit is lowered around accept
  rlimit old{};
  static void on_listener(int fd, uint32_t, void* data) noexcept {
    auto* s = static_cast<Server*>(data);
    ++s->callbacks;
    if (s->tight) {
      int probe = dup(0);
      close(probe);
      rlimit t = s->old;
      t.rlim_cur = rlim_t(probe);
      setrlimit(RLIMIT_NOFILE, &t);
    }
    Accepted a = accept_nonblocking(fd);
    if (s->tight) setrlimit(RLIMIT_NOFILE, &s->old);
    if (a.status == AcceptStatus::kExhausted) {
      s->pause->pause();
      return;
    }
    if (a.status == AcceptStatus::kAccepted) s->accepted = a.fd;
  }
};

TEST(AcceptPause, PausesOnExhaustionAndResumesAfterTheDelay) {
  auto r = Reactor::create();
  ASSERT_TRUE(r);
  Reactor& reactor = **r;
  auto addr = parse_address("127.0.0.1:0");
  auto l = listen_tcp(*addr, 16, false);
  ASSERT_TRUE(l);
  int listener = *l;
  Server s;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &s.old), 0);
  AcceptPause pause(reactor, listener, 30);
  s.pause = &pause;
  ASSERT_TRUE(reactor.add(listener, kReadable, &Server::on_listener, &s));

  auto port = local_port(listener);
  auto client = connect_tcp(*parse_address("127.0.0.1:" + std::to_string(*port)));
  ASSERT_TRUE(client);
  pollfd p{listener, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);

  s.tight = true;
  reactor.run_once(0);
  EXPECT_EQ(s.callbacks, 1);
  EXPECT_TRUE(pause.is_paused());
  EXPECT_EQ(pause.pauses(), 1u);
  EXPECT_EQ(reactor.interest(listener), 0u);
  s.tight = false;

  // Paused: the listener is still readable but is not reported (no spinning).
  for (int i = 0; i < 5 && pause.is_paused(); ++i) reactor.run_once(0);
  EXPECT_EQ(s.callbacks, 1);

  int64_t end = monotonic_ms() + 5000;
  while (s.accepted < 0 && monotonic_ms() < end) reactor.run_once(50);
  EXPECT_FALSE(pause.is_paused());
  EXPECT_EQ(reactor.interest(listener), kReadable);
  ASSERT_GE(s.accepted, 0);
  EXPECT_EQ(s.callbacks, 2);

  close(s.accepted);
  close(*client);
  reactor.remove(listener);
  close(listener);
}

TEST(AcceptPause, ResumeRestoresInterestAtOnce) {
  auto r = Reactor::create();
  ASSERT_TRUE(r);
  auto l = listen_tcp(*parse_address("127.0.0.1:0"), 16, false);
  ASSERT_TRUE(l);
  Server s;
  AcceptPause pause(**r, *l, 10'000);
  ASSERT_TRUE((*r)->add(*l, kReadable, &Server::on_listener, &s));
  pause.pause();
  EXPECT_TRUE(pause.is_paused());
  EXPECT_EQ((*r)->interest(*l), 0u);
  pause.resume();
  EXPECT_FALSE(pause.is_paused());
  EXPECT_EQ((*r)->interest(*l), kReadable);
  EXPECT_EQ((*r)->armed_timers(), 0u);
  (*r)->remove(*l);
  close(*l);
}

}  // namespace
}  // namespace relay::net
