// SPDX-License-Identifier: MIT
// libFuzzer target: the config file (daemon/config.h parse_config, then
// check_config_semantics with TLS taken out, so no file is ever opened).
// Input: the whole file text. Oracles (abort on violation):
//   - an error has a message and a pointer that is "" or starts with '/' and resolves in
//     the document (a missing key's error names the object that lacks it);
//   - text nlohmann cannot parse is an error at ""; otherwise every error listed (one per
//     pointer: schema errors, duplicate keys) names a value in the document;
//   - an accepted config keeps the schema's ranges (limits, enums, list sizes), its
//     origins are lowercase, and written back out as JSON it parses to an equal Config;
//   - check_config_semantics answers nullopt or an error at a '/' pointer; when it passes,
//     every configured origin is one is_origin_allowed() lets in and options_for() finds
//     each channel's own entry (or an earlier one that also matches).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "config_print.h"
#include "fuzz_check.h"
#include "origin.h"

namespace {

using json = nlohmann::json;
using relay::daemon::ChannelOptions;
using relay::daemon::Config;
using relay::daemon::ConfigResult;
using relay::daemon::PublishRight;

bool in_range(uint64_t v, uint64_t lo, uint64_t hi) { return v >= lo && v <= hi; }

// The ranges of config/wsrelay.schema.json.
void check_ranges(const Config& c) {
  const auto& l = c.limits;
  FUZZ_CHECK(in_range(l.max_connections, 1, 10000000));
  FUZZ_CHECK(in_range(l.max_message_bytes, 1, 1073741824));
  FUZZ_CHECK(in_range(l.max_fragments, 1, 1000000));
  FUZZ_CHECK(in_range(l.max_queue_bytes, 1024, 1099511627776));
  FUZZ_CHECK(in_range(l.queue_soft_bytes, 1024, 1099511627776));
  FUZZ_CHECK(in_range(l.queue_soft_seconds, 1, 86400));
  FUZZ_CHECK(in_range(l.handshake_timeout_ms, 100, 600000));
  FUZZ_CHECK(in_range(l.max_header_bytes, 1024, 1048576));
  FUZZ_CHECK(in_range(l.max_headers, 1, 10000));
  FUZZ_CHECK(in_range(l.ping_interval_ms, 100, 86400000));
  FUZZ_CHECK(in_range(l.pong_timeout_ms, 100, 86400000));
  FUZZ_CHECK(in_range(l.max_channels_per_client, 1, 1000000));
  FUZZ_CHECK(in_range(l.drain_timeout_ms, 0, 3600000));
  FUZZ_CHECK(in_range(l.max_total_queue_bytes, 0, 1099511627776));
  FUZZ_CHECK(in_range(l.socket_send_buffer, 0, 1073741824));
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  FUZZ_CHECK(std::find(std::begin(kLevels), std::end(kLevels), c.log_level) != std::end(kLevels));
  FUZZ_CHECK(!c.listen.empty());
  if (c.tls) FUZZ_CHECK(!c.tls->cert.empty() && !c.tls->key.empty());
  if (c.allowed_origins) {
    FUZZ_CHECK(c.allowed_origins->size() <= 1000);
    for (const auto& o : *c.allowed_origins) {
      FUZZ_CHECK(!o.empty());
      for (char ch : o) FUZZ_CHECK(!(ch >= 'A' && ch <= 'Z'));
    }
  }
  if (c.subprotocols) {
    FUZZ_CHECK(c.subprotocols->size() <= 100);
    for (const auto& p : *c.subprotocols) FUZZ_CHECK(in_range(p.size(), 1, 100));
  }
  FUZZ_CHECK(c.channels.size() <= 10000);
  for (const auto& ch : c.channels) {
    FUZZ_CHECK(in_range(ch.match.size(), 1, 200));
    FUZZ_CHECK(ch.match.find('*') == std::string::npos ||
               ch.match.find('*') == ch.match.size() - 1);
    FUZZ_CHECK(ch.max_message_bytes <= 1073741824);
  }
}

// Does `pointer` (RFC 6901) name a value in `doc`?
bool resolves(const json& doc, const std::string& pointer) {
  try {
    return doc.contains(json::json_pointer(pointer));
  } catch (const json::exception&) {
    return false;
  }
}

void check_error(std::string_view text, const ConfigResult& r) {
  FUZZ_CHECK(!r.config);
  FUZZ_CHECK(!r.error.message.empty());
  FUZZ_CHECK(r.error.pointer.empty() || r.error.pointer[0] == '/');
  // nlohmann stops at a NUL byte as if the input ended there; JSON text never holds one.
  const bool nul = text.find('\0') != std::string_view::npos;
  const json doc =
      nul ? json(json::value_t::discarded) : json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    // A syntax error says where; a number too large for a double (1e400: valid JSON
    // grammar, out_of_range in nlohmann) comes back as "cannot load: ...".
    FUZZ_CHECK(r.error.pointer.empty());
    FUZZ_CHECK(r.error.message.starts_with("malformed JSON at byte ") ||
               r.error.message.starts_with("cannot load: "));
    return;
  }
  // Every error is listed, the first one also as r.error; "missing required key" names the
  // object that lacks it, everything else the value (a duplicate key: the one nlohmann kept).
  FUZZ_CHECK(!r.errors.empty() && r.errors.front().to_string() == r.error.to_string());
  for (const auto& e : r.errors) {
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(resolves(doc, e.pointer));
  }
}

void check_semantics(const Config& parsed) {
  Config c = parsed;
  c.tls.reset();  // check_tls opens files: never from fuzz input
  const std::optional<relay::daemon::ConfigError> err = relay::daemon::check_config_semantics(c);
  if (err) {
    FUZZ_CHECK(!err->pointer.empty() && err->pointer[0] == '/' && !err->message.empty());
    return;
  }
  FUZZ_CHECK(c.limits.queue_soft_bytes <= c.limits.max_queue_bytes);
  if (c.allowed_origins) {
    for (const auto& o : *c.allowed_origins) {
      FUZZ_CHECK(relay::daemon::is_origin_allowed(o, "example.com", c.allowed_origins));
      std::string upper = o;
      for (char& ch : upper) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
      FUZZ_CHECK(relay::daemon::is_origin_allowed(upper, "example.com", c.allowed_origins));
    }
  }
  for (size_t i = 0; i < c.channels.size(); ++i) {
    std::string name = c.channels[i].match;
    if (name.ends_with('*')) name.back() = 'x';
    const ChannelOptions& o = c.options_for(name);
    bool found = false;
    for (size_t j = 0; j <= i && !found; ++j) found = &o == &c.channels[j];
    FUZZ_CHECK(found);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ConfigResult r = relay::daemon::parse_config(text, "fuzz.json");
  if (!r) {
    check_error(text, r);
    return 0;
  }
  FUZZ_CHECK(text.find('\0') == std::string_view::npos);
  const Config& c = *r.config;
  FUZZ_CHECK(c.source_path == "fuzz.json");
  check_ranges(c);
  const ConfigResult again =
      relay::daemon::parse_config(relay::daemon::config_to_json(c), "fuzz.json");
  if (!again) std::fprintf(stderr, "re-parse: %s\n", again.error.to_string().c_str());
  FUZZ_CHECK(again && *again.config == c);
  check_semantics(c);
  return 0;
}
