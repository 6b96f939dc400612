// SPDX-License-Identifier: MIT
#include "config_print.h"

#include <nlohmann/json.hpp>

#include "worker_count.h"

namespace relay::daemon {
namespace {

// ordered_json keeps the order of README "Configuration" instead of sorting the keys.
using ojson = nlohmann::ordered_json;

const char* publish_name(PublishRight p) {
  switch (p) {
    case PublishRight::kClients:
      return "clients";
    case PublishRight::kHttp:
      return "http";
    case PublishRight::kBoth:
      return "both";
  }
  return "both";
}

ojson limits_json(const Limits& l) {
  ojson j = ojson::object();
  j["max_connections"] = l.max_connections;
  j["max_message_bytes"] = l.max_message_bytes;
  j["max_fragments"] = l.max_fragments;
  j["max_queue_bytes"] = l.max_queue_bytes;
  j["queue_soft_bytes"] = l.queue_soft_bytes;
  j["queue_soft_seconds"] = l.queue_soft_seconds;
  j["handshake_timeout_ms"] = l.handshake_timeout_ms;
  j["max_header_bytes"] = l.max_header_bytes;
  j["max_headers"] = l.max_headers;
  j["ping_interval_ms"] = l.ping_interval_ms;
  j["pong_timeout_ms"] = l.pong_timeout_ms;
  j["max_channels_per_client"] = l.max_channels_per_client;
  j["drain_timeout_ms"] = l.drain_timeout_ms;
  j["max_total_queue_bytes"] = l.max_total_queue_bytes;
  j["socket_send_buffer"] = l.socket_send_buffer;
  j["max_history_bytes"] = l.max_history_bytes;
  j["max_connections_per_ip"] = l.max_connections_per_ip;
  j["max_connections_per_user"] = l.max_connections_per_user;
  return j;
}

// ---- access keys (README "Securing wsrelay") ----

ojson rate_limit_json(const RateLimitConfig& r) {
  return ojson{{"messages_per_s", r.messages_per_s},
               {"message_burst", r.message_burst},
               {"bytes_per_s", r.bytes_per_s},
               {"byte_burst", r.byte_burst}};
}

// Inline secrets are printed as configured (the output must load back); a key kept in a
// file or a systemd credential shows only its path.
void add_access_json(const Config& c, ojson* j) {
  ojson keys = ojson::array();
  for (const ApiKeyConfig& k : c.api_keys) {
    ojson e = ojson{{"name", k.name}};
    if (!k.secret.empty()) e["secret"] = k.secret;
    if (!k.file.empty()) e["file"] = k.file;
    e["channels"] = k.channels;
    keys.push_back(std::move(e));
  }
  (*j)["api_keys"] = std::move(keys);
  (*j)["trusted_proxies"] = c.trusted_proxies;
  (*j)["public_origins"] = c.public_origins ? ojson(*c.public_origins) : ojson(nullptr);
  if (c.metrics_access) {
    ojson m = ojson::object();
    if (!c.metrics_access->token.empty()) m["token"] = c.metrics_access->token;
    if (!c.metrics_access->token_file.empty()) m["token_file"] = c.metrics_access->token_file;
    m["allow"] = c.metrics_access->allow;
    (*j)["metrics_access"] = std::move(m);
  } else {
    (*j)["metrics_access"] = nullptr;
  }
  (*j)["rate_limit"] = rate_limit_json(c.rate_limit);
}

const char* policy_name(auth::ChannelPolicy p) {
  switch (p) {
    case auth::ChannelPolicy::kAnyone:
      return "anyone";
    case auth::ChannelPolicy::kAuthenticated:
      return "authenticated";
    case auth::ChannelPolicy::kClaims:
      return "claims";
  }
  return "anyone";
}

const char* mode_name(auth::AuthMode m) {
  switch (m) {
    case auth::AuthMode::kNone:
      return "none";
    case auth::AuthMode::kOptional:
      return "optional";
    case auth::AuthMode::kRequired:
      return "required";
  }
  return "none";
}

// Inline secrets are printed as they are (the output must load again as the same config):
// keep them in files or credentials to keep them off terminals.
ojson auth_json(const AuthConfig& a) {
  ojson j = ojson::object();
  j["mode"] = mode_name(a.mode);
  j["keys"] = ojson::array();
  for (const auto& k : a.keys) {
    ojson key = ojson::object();
    key["kid"] = k.kid;
    key["alg"] = k.alg;
    if (!k.secret.empty()) key["secret"] = k.secret;
    if (!k.pem.empty()) key["pem"] = k.pem;
    if (!k.file.empty()) key["file"] = k.file;
    j["keys"].push_back(std::move(key));
  }
  j["audience"] = a.audience;
  j["issuer"] = a.issuer;
  j["require_exp"] = a.require_exp;
  j["leeway_s"] = a.leeway_s;
  j["revoked"] = ojson{{"subs", a.revoked_subs}, {"jtis", a.revoked_jtis}};
  j["timeout_ms"] = a.timeout_ms;
  j["cookie"] = a.cookie;
  return j;
}

ojson channel_json(const ChannelOptions& o) {
  ojson j = ojson::object();
  j["match"] = o.match;
  j["echo"] = o.echo;
  j["max_subscribers"] = o.max_subscribers;
  j["max_message_bytes"] = o.max_message_bytes;
  j["publish"] = publish_name(o.publish);
  ojson z = ojson::object();
  z["enabled"] = o.compression.enabled;
  z["min_bytes"] = o.compression.min_bytes;
  z["level"] = o.compression.level;
  j["compression"] = std::move(z);
  j["history_size"] = o.history_size;
  j["history_ttl"] = o.history_ttl;
  j["presence"] = o.presence;
  j["rate_limit"] = o.rate_limit ? rate_limit_json(*o.rate_limit) : ojson(nullptr);
  j["access"] = ojson{{"subscribe", policy_name(o.access.subscribe)},
                      {"publish", policy_name(o.access.publish)}};
  return j;
}

template <typename T>
ojson or_null(const std::optional<T>& v) {
  return v ? ojson(*v) : ojson(nullptr);
}

}  // namespace

std::string config_to_json(const Config& c) {
  ojson j = ojson::object();
  j["listen"] = c.listen;
  j["metrics_listen"] = c.metrics_listen;
  j["log_level"] = c.log_level;
  j["tls"] = c.tls ? ojson{{"cert", c.tls->cert}, {"key", c.tls->key}} : ojson(nullptr);
  j["allowed_origins"] = or_null(c.allowed_origins);
  j["subprotocols"] = or_null(c.subprotocols);
  j["demo"] = c.demo;
  // null = unset: the CPU count, resolved at start-up (the log says how many run).
  j["workers"] = c.workers == kWorkersPerCpu ? ojson(0)
                 : c.workers                 ? ojson(c.workers)
                                             : ojson(nullptr);
  j["limits"] = limits_json(c.limits);
  j["channels"] = ojson::array();
  for (const auto& o : c.channels) j["channels"].push_back(channel_json(o));
  add_access_json(c, &j);
  j["auth"] = auth_json(c.auth);
  // The password itself is never printed, only where it is read from.
  j["broker"] = ojson{{"type", c.broker.type},         {"address", c.broker.address},
                      {"username", c.broker.username}, {"password_file", c.broker.password_file},
                      {"prefix", c.broker.prefix},     {"tls", c.broker.tls}};
  return j.dump(2) + "\n";
}

}  // namespace relay::daemon
