// SPDX-License-Identifier: MIT
// The daemon's configuration: one JSON file, validated against config/wsrelay.schema.json
// (embedded in the binary), then turned into this struct with every default filled in.
// Loading never throws: errors come back as ConfigErrors naming the JSON pointer.
// Duplicate keys are errors (nlohmann alone would keep the last one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access_config.h"
#include "auth/rights.h"

namespace relay::daemon {

enum class PublishRight : uint8_t { kClients, kHttp, kBoth };

// permessage-deflate (RFC 7692) toward subscribers that negotiated it: each message is
// compressed once (per encoding) and the compressed frame shared by all of them.
struct CompressionOptions {
  bool enabled = false;     // off by default, as uWebSockets and Centrifugo
  uint32_t min_bytes = 64;  // smaller payloads go as they are (headers would eat the gain)
  uint8_t level = 1;        // zlib 1..9: 1 is the fastest and gets most of it on text
  bool operator==(const CompressionOptions&) const = default;
};

// Options for channels whose name matches `match`: an exact name, or a prefix pattern
// ending in '*' ("chat.*"). The first matching entry wins; no match = the defaults.
struct ChannelOptions {
  std::string match;
  bool echo = false;               // deliver a client's messages back to itself too
  uint32_t max_subscribers = 0;    // 0 = no limit
  uint32_t max_message_bytes = 0;  // 0 = limits.max_message_bytes
  PublishRight publish = PublishRight::kBoth;
  CompressionOptions compression = {};
  uint32_t history_size = 0;                  // messages kept for recovery (0 = no history)
  uint32_t history_ttl = 0;                   // seconds a stored message is kept (0 = no age limit)
  bool presence = false;                      // answer the presence op, send join/leave events
  std::optional<RateLimitConfig> rate_limit;  // unset = Config::rate_limit
  // Who may subscribe / publish (auth.mode optional or required): anyone, any valid token,
  // or tokens whose channels claim names the channel. Checked once per subscription.
  auth::ChannelAccess access;
  bool operator==(const ChannelOptions&) const = default;
};

struct TlsConfig {
  std::string cert;  // PEM file (chain)
  std::string key;   // PEM file
  bool operator==(const TlsConfig&) const = default;
};

// One token-verifying key (auth::KeySpec): exactly one of secret, pem, file is set.
struct AuthKeyConfig {
  std::string kid;
  std::string alg;     // HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384
  std::string secret;  // HMAC, inline
  std::string pem;     // RS/ES, inline public (or private) key
  std::string file;    // a path or "credential:<name>" ($CREDENTIALS_DIRECTORY/<name>)
  bool operator==(const AuthKeyConfig&) const = default;
};

// Tokens on connections (README "Securing wsrelay"). Keys and the revocation list are
// loaded at start-up and on SIGHUP.
struct AuthConfig {
  auth::AuthMode mode = auth::AuthMode::kNone;
  std::vector<AuthKeyConfig> keys;
  std::vector<std::string> audience;  // empty = aud not checked
  std::string issuer;                 // "" = iss not checked
  bool require_exp = true;
  uint32_t leeway_s = 5;
  std::vector<std::string> revoked_subs;
  std::vector<std::string> revoked_jtis;
  uint32_t timeout_ms = 10000;  // /ws with mode required: the auth op must come within it
  std::string cookie;           // raw channels: the cookie carrying a token ("" = none)
  bool operator==(const AuthConfig&) const = default;
};

struct Limits {
  uint32_t max_connections = 10000;
  uint32_t max_message_bytes = 64 * 1024;  // inbound message -> 1009 above it
  uint32_t max_fragments = 128;            // frames per inbound message
  uint64_t max_queue_bytes = 8u << 20;     // hard: over it the client is closed at once
  uint64_t queue_soft_bytes = 1u << 20;    // soft: over it for queue_soft_seconds -> closed
  uint32_t queue_soft_seconds = 10;
  uint32_t handshake_timeout_ms = 10000;   // slow-loris guard, TCP accept -> 101 sent
  uint32_t max_header_bytes = 8192;        // request head -> 431 above it
  uint32_t max_headers = 64;               // header lines -> 431 above it
  uint32_t ping_interval_ms = 25000;       // server ping after this much silence
  uint32_t pong_timeout_ms = 10000;        // no traffic this long after a ping -> close
  uint32_t max_channels_per_client = 100;  // /ws subscriptions per connection
  uint32_t drain_timeout_ms = 10000;       // SIGTERM: wait this long for closes
  // All clients' queues together; over it the largest queues are closed (4008). 0 = a
  // quarter of the memory available (cgroup memory.max, else MemTotal): queue_budget.h.
  uint64_t max_total_queue_bytes = 0;
  // SO_SNDBUF of accepted sockets; 0 = autotuning. 64 KiB, not more: 2,000 clients that
  // never read at 256 KiB took 1 GiB of kernel memory and the readers' p99 to 1 s
  // (wsrelay-bench I1, tests/bench/RESULTS.md); at 64 KiB, 259 MiB and 85 ms.
  uint32_t socket_send_buffer = 64 * 1024;
  uint64_t max_history_bytes = 64u << 20;  // stored payloads of every channel's history
  uint32_t max_connections_per_ip = 0;     // WebSockets per client IP; 0 = no limit
  uint32_t max_connections_per_user = 0;   // WebSockets per token sub; 0 = no limit
  bool operator==(const Limits&) const = default;
};

// The Broker (README "Several nodes (Redis)"): "memory" = one process (the default),
// "redis" = every node publishes and subscribes through one Redis.
struct BrokerConfig {
  std::string type = "memory";
  std::string address = "127.0.0.1:6379";  // HOST:PORT, or a unix socket path (starts with /)
  std::string username;                    // "" = AUTH with the password only (or no AUTH)
  std::string password_file;               // "" = no AUTH
  std::string prefix = "wsrelay:";         // Redis channel = prefix + channel name
  bool tls = false;                        // only false: Debian's hiredis 0.14 has no TLS
  bool operator==(const BrokerConfig&) const = default;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string metrics_listen = "127.0.0.1:9464";  // "" = no metrics listener
  std::string log_level = "info";                 // trace debug info warn error critical off
  std::optional<TlsConfig> tls;                   // on the public listener
  // Origins allowed to open WebSockets: exact "scheme://host[:port]" or "*".
  // Unset = same-origin browsers (Origin host == Host) and clients sending no Origin.
  std::optional<std::vector<std::string>> allowed_origins;
  // Subprotocols we accept. Unset = echo the client's first offer (a transparent relay).
  std::optional<std::vector<std::string>> subprotocols;
  bool demo = true;  // serve the demo chat page at GET /
  // Event loops (threads); 0 = unset (one), kWorkersPerCpu = `0` in the file (worker_count.h).
  uint32_t workers = 0;
  Limits limits;
  std::vector<ChannelOptions> channels;
  AuthConfig auth;
  std::string source_path;  // the file it came from ("" = built-in defaults)

  // ---- access (README "Securing wsrelay"): HTTP publish keys, origins, metrics, rates ----
  // API keys for HTTP publish; empty = no key needed.
  std::vector<ApiKeyConfig> api_keys;
  // CIDRs whose X-Forwarded-For / Forwarded are believed for the client IP.
  std::vector<std::string> trusted_proxies;
  // The relay's own origins for the same-origin rule; unset = loopback names only.
  std::optional<std::vector<std::string>> public_origins;
  // Who may read /metrics; unset = anyone reaching the metrics listener.
  std::optional<MetricsAccess> metrics_access;
  // Publish rate limit, the default for every channel.
  RateLimitConfig rate_limit;
  BrokerConfig broker;  // restart to change

  // The options for a channel name (first match, else the defaults).
  const ChannelOptions& options_for(std::string_view name) const noexcept;
  // Whether to accept permessage-deflate on an upgrade: for a raw channel its entry's
  // compression.enabled; for /ws (json) any entry's, since it may subscribe to any channel.
  bool compression_wanted(bool json, std::string_view channel) const noexcept;
  // Field by field, source_path included (tests; reload diffs).
  bool operator==(const Config&) const = default;
};

struct ConfigError {
  std::string pointer;            // JSON pointer of the bad field ("" = the document itself)
  std::string message;            // what was expected
  std::string to_string() const;  // "config: /limits/max_connections: must be >= 1"
};

// Exit status for a bad configuration (sysexits.h EX_CONFIG).
constexpr int kExitConfig = 78;

}  // namespace relay::daemon

namespace relay::daemon {

// Either a config or the errors found.
struct ConfigResult {
  std::optional<Config> config;
  ConfigError error;                // the first error (== errors.front())
  std::vector<ConfigError> errors;  // all of them, one per JSON pointer (--check-config)
  explicit operator bool() const { return config.has_value(); }
};

// Parses and validates JSON text against the schema; `source` becomes Config::source_path.
// Does not call check_config_semantics (the command-line overrides come first).
ConfigResult parse_config(std::string_view json_text, const std::string& source);
// Reads a file ("" = the built-in defaults, with no file at all).
ConfigResult load_config(const std::string& path);
// Checks what the schema cannot (readable TLS files, listen addresses that parse, origins
// written the way browsers send them, queue_soft_bytes <= max_queue_bytes).
std::optional<ConfigError> check_config_semantics(const Config& c);
// The same checks, every problem found (--check-config lists them all).
std::vector<ConfigError> config_semantic_errors(const Config& c);

}  // namespace relay::daemon
