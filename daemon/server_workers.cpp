// SPDX-License-Identifier: MIT
// The Server's part in several workers per process (README "Scaling"): its WorkerBroker,
// the listeners bound for it, drain and reload passed on by the first worker, and the
// metrics the first worker serves for all of them.
#include <spdlog/spdlog.h>

#include "server.h"
#include "worker_broker.h"
#include "worker_hub.h"

namespace relay::daemon {

std::unique_ptr<Broker> Server::make_worker_broker() {
  auto b =
      std::make_unique<WorkerBroker>(*hub_, worker_, *reactor_, fanout_,
                                     [this](Envelope::Kind k) { on_worker_control(uint8_t(k)); });
  workers_ = b.get();
  stats_.broker_up = 1;
  return b;
}

void Server::adopt_listeners(int public_fd, int metrics_fd) noexcept {
  public_fd_ = public_fd;
  metrics_fd_ = metrics_fd;
  listeners_adopted_ = true;
}

void Server::on_worker_control(uint8_t kind) noexcept {
  if (Envelope::Kind(kind) == Envelope::Kind::kDrain) {
    spdlog::debug("worker {}: draining", worker_);
    start_drain();
  } else if (Envelope::Kind(kind) == Envelope::Kind::kReload) {
    reload();
  }
}

void Server::refresh_metrics() noexcept {
  if (!hub_) return metrics_.update(stats_);
  hub_->save_stats(worker_, stats_);
  if (worker_ != 0) return;  // the first worker serves /metrics for every one
  metrics_.update(hub_->sum(worker_, stats_));
  metrics_.update_workers(hub_->connections_by_worker(worker_, stats_));
}

}  // namespace relay::daemon
