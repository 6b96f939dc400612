// SPDX-License-Identifier: MIT
// Several workers in one process (see workers.h).
#include "workers.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "net/socket.h"
#include "systemd.h"
#include "worker_count.h"
#include "worker_hub.h"

namespace relay::daemon {
namespace {

constexpr int kBacklog = 4096;

// SIGPIPE ignored and the handled signals blocked before any thread starts: threads inherit
// the mask, so only the first worker's signalfd ever sees them.
bool block_signals() {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  if (sigaction(SIGPIPE, &ign, nullptr) != 0) return false;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  return pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0;
}

// `where` with its port replaced by `port` (the one the first socket got for port 0).
std::string with_port(const std::string& where, uint16_t port) {
  return where.substr(0, where.rfind(':')) + ":" + std::to_string(port);
}

int listen_on(const std::string& where, bool reuseport, const char* what) {
  auto addr = net::parse_address(where);
  if (!addr) {
    spdlog::error("{} address '{}' is not HOST:PORT", what, where);
    return -1;
  }
  auto fd = net::listen_tcp(*addr, kBacklog, reuseport);
  if (!fd) {
    spdlog::error("cannot listen on {} ({}): {}", where, what, std::strerror(to_errno(fd.error())));
    return -1;
  }
  return *fd;
}

// One public socket per worker (SO_REUSEPORT), or the passed one shared; the metrics
// listener for the first worker. False (logged, all closed) on failure.
bool bind_all(const Config& config, uint32_t n, std::vector<int>* publics, int* metrics) {
  ActivatedListeners passed = take_activated_listeners();
  for (const std::string& why : passed.ignored) spdlog::warn("socket activation: ignoring {}", why);
  auto close_all = [&] {
    for (int fd : *publics) ::close(fd);
    publics->clear();
    if (*metrics >= 0) ::close(*metrics);
    *metrics = -1;
  };
  if (passed.public_fd >= 0) {
    spdlog::info("listening on the public socket passed by systemd (fd {}), shared by {} workers",
                 passed.public_fd, n);
    publics->push_back(passed.public_fd);
    for (uint32_t i = 1; i < n; ++i)
      publics->push_back(::fcntl(passed.public_fd, F_DUPFD_CLOEXEC, 0));
  } else {
    std::string where = config.listen;
    for (uint32_t i = 0; i < n; ++i) {
      const int fd = listen_on(where, /*reuseport=*/true, "public");
      if (fd < 0) {
        close_all();
        return false;
      }
      publics->push_back(fd);
      if (i == 0) {
        auto port = net::local_port(fd);
        where = with_port(config.listen, port ? *port : 0);
        spdlog::info("listening on {} (public, port {}, {} workers, SO_REUSEPORT)", config.listen,
                     port ? *port : 0, n);
      }
    }
  }
  if (passed.metrics_fd >= 0) {
    *metrics = passed.metrics_fd;
  } else if (!config.metrics_listen.empty()) {
    *metrics = listen_on(config.metrics_listen, false, "metrics");
    if (*metrics < 0) {
      close_all();
      return false;
    }
    auto port = net::local_port(*metrics);
    spdlog::info("listening on {} (metrics, port {})", config.metrics_listen, port ? *port : 0);
  }
  return true;
}

}  // namespace

std::string one_loop_reason(const Config& config) {
  if (config.broker.type != "memory") return "the Redis broker";
  for (const ChannelOptions& o : config.channels) {
    if (o.history_size) return "channel history ('" + o.match + "')";
    if (o.presence) return "presence ('" + o.match + "')";
  }
  return {};
}

int run_workers(Config config, ConfigReloader reload) {
  uint32_t n = resolve_workers(config.workers);
  if (n > 1) {
    if (std::string why = one_loop_reason(config); !why.empty()) {
      // A warning when `workers` asked for more; the default falls back quietly (info).
      spdlog::log(config.workers > 1 ? spdlog::level::warn : spdlog::level::info,
                  "one worker instead of {}: {} keeps its state in one event loop (README "
                  "\"Scaling\")",
                  n, why);
      n = 1;
    }
  }
  if (n == 1) return run_server(std::move(config), std::move(reload));  // as before

  if (!block_signals()) {
    spdlog::error("cannot set up signal handling: {}", std::strerror(errno));
    return 1;
  }
  std::vector<int> publics;
  int metrics = -1;
  if (!bind_all(config, n, &publics, &metrics)) return 1;

  WorkerHub hub(n);
  std::vector<std::unique_ptr<Server>> servers;
  for (uint32_t i = 0; i < n; ++i) {
    servers.push_back(std::make_unique<Server>(config, reload, &hub, i));
    servers.back()->adopt_listeners(publics[i], i == 0 ? metrics : -1);
  }
  std::vector<int> status(n, 0);
  std::vector<std::thread> threads;
  for (uint32_t i = 1; i < n; ++i) {
    threads.emplace_back([&servers, &status, i] {
      mute_notify_on_this_thread();
      status[i] = servers[i]->run();
    });
  }
  spdlog::info("{} workers", n);
  status[0] = servers[0]->run();
  // The first worker is done (drained, or failed to start): the others drain too.
  // A full inbox is being worked through; one that stays full 10 s belongs to a worker
  // that has stopped already.
  for (uint32_t i = 1; i < n; ++i) {
    Envelope e;
    e.kind = Envelope::Kind::kDrain;
    for (int tries = 0; tries < 10000 && !hub.post(i, e); ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::thread& t : threads) t.join();
  servers.clear();  // before the hub: envelopes still queued are freed with it
  for (int s : status)
    if (s != 0 && status[0] == 0) return s;
  return status[0];
}

}  // namespace relay::daemon
