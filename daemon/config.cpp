// SPDX-License-Identifier: MIT
// Config loading: JSON text -> nlohmann::json -> valijson against the embedded schema ->
// Config. The schema is the one source of truth for shapes, types and ranges; this file only
// turns valijson's first error into "<JSON pointer>: <what was expected>" and copies values.
// Exceptions (nlohmann, valijson) are caught here; none leave parse_config/load_config.
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "config_schema.h"
#include "json_strict.h"
#include "worker_count.h"

namespace relay::daemon {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxConfigBytes = 16u << 20;  // a config bigger than this is a mistake

// The parsed schema, built once. valijson::Schema is neither copyable nor movable.
struct CompiledSchema {
  json doc;
  valijson::Schema schema;
  std::string error;  // non-empty if the embedded schema itself is broken (a build defect)
  CompiledSchema() {
    try {
      doc = json::parse(config_schema_json());
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      valijson::adapters::NlohmannJsonAdapter adapter(doc);
      parser.populateSchema(adapter, schema);
    } catch (const std::exception& e) {
      error = std::string("embedded schema is broken: ") + e.what();
    }
  }
};

const CompiledSchema& compiled_schema() {
  static const CompiledSchema s;
  return s;
}

std::string to_pointer(const std::vector<std::string>& tokens) {
  std::string p;
  for (const auto& t : tokens) p += "/" + json_strict::escape_token(t);
  return p;
}

// valijson contexts look like {"<root>", "[limits]", "[max_connections]"}.
std::vector<std::string> context_tokens(const std::vector<std::string>& context) {
  std::vector<std::string> tokens;
  for (const auto& c : context) {
    if (c == "<root>") continue;
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']')
      tokens.push_back(c.substr(1, c.size() - 2));
    else
      tokens.push_back(c);
  }
  return tokens;
}

// valijson pushes the specific error first and then a summary for every parent ("Failed to
// validate item #0"); the summaries say nothing new.
bool is_summary(const std::string& description) {
  for (std::string_view prefix :
       {"Failed to validate against schema associated with property", "Failed to validate item #",
        "Failed to validate against child", "Failed to validate against additional properties"})
    if (description.rfind(prefix, 0) == 0) return true;
  return false;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const json* resolve_ref(const json& root, const json* node) {
  for (int hops = 0; node && node->is_object() && node->contains("$ref") && hops < 8; ++hops) {
    const std::string ref = (*node)["$ref"].get<std::string>();
    if (ref.rfind("#", 0) != 0) return nullptr;
    const json::json_pointer p(ref.substr(1));
    node = root.contains(p) ? &root.at(p) : nullptr;
  }
  return node;
}

// The schema node that describes the value at `tokens` (follows properties, items, $ref).
const json* schema_node(const json& root, const std::vector<std::string>& tokens) {
  const json* node = resolve_ref(root, &root);
  for (const auto& t : tokens) {
    if (!node || !node->is_object()) return nullptr;
    if (node->contains("properties") && (*node)["properties"].contains(t))
      node = &(*node)["properties"][t];
    else if (node->contains("items") && (*node)["items"].is_object())
      node = &(*node)["items"];
    else
      return nullptr;
    node = resolve_ref(root, node);
  }
  return node;
}

const json* value_at(const json& doc, const std::string& pointer) {
  try {
    const json::json_pointer p(pointer);
    return doc.contains(p) ? &doc.at(p) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "null") return v.is_null();
  return false;
}

std::string type_phrase(const std::string& type) {
  if (type == "null") return "null";
  if (type == "object") return "an object";
  if (type == "array") return "an array";
  if (type == "integer") return "an integer";
  return "a " + type;
}

std::string number_text(const json& n) {
  return n.is_number_float() ? n.dump() : std::to_string(n.get<int64_t>());
}

// "What was expected" for a value that failed its schema node, in the words of README.md.
std::string expectation(const json& node, const json& value, const std::string& fallback) {
  if (node.contains("type")) {
    const json& t = node["type"];
    const std::vector<std::string> types = t.is_array()
                                               ? t.get<std::vector<std::string>>()
                                               : std::vector<std::string>{t.get<std::string>()};
    if (std::none_of(types.begin(), types.end(),
                     [&](const std::string& x) { return has_type(value, x); })) {
      std::string phrase;
      for (const auto& x : types) phrase += (phrase.empty() ? "" : " or ") + type_phrase(x);
      return "must be " + phrase;
    }
  }
  if (node.contains("enum") &&
      std::find(node["enum"].begin(), node["enum"].end(), value) == node["enum"].end()) {
    std::string list;
    for (const auto& e : node["enum"]) list += (list.empty() ? "" : ", ") + e.dump();
    return "must be one of " + list;
  }
  if (value.is_number()) {
    const double v = value.get<double>();
    if (node.contains("minimum") && v < node["minimum"].get<double>())
      return "must be >= " + number_text(node["minimum"]);
    if (node.contains("maximum") && v > node["maximum"].get<double>())
      return "must be <= " + number_text(node["maximum"]);
  }
  if (value.is_string()) {
    const auto len = value.get<std::string>().size();
    if (node.contains("minLength") && len < node["minLength"].get<size_t>())
      return len == 0 ? "must not be empty"
                      : "must be at least " + number_text(node["minLength"]) + " characters";
    if (node.contains("pattern"))
      return node.contains("x-expected") ? node["x-expected"].get<std::string>()
                                         : "must match " + node["pattern"].get<std::string>();
  }
  if (value.is_array() && node.contains("maxItems") &&
      value.size() > node["maxItems"].get<size_t>())
    return "must have at most " + number_text(node["maxItems"]) + " entries";
  return fallback;
}

// "; did you mean \"listen\"?" when a key allowed at this level is a typo away from `key`.
std::string suggestion(const json* object_schema, const std::string& key) {
  if (!object_schema || !object_schema->contains("properties")) return "";
  std::string best;
  size_t best_distance = 3;  // more than two edits away is not a typo
  for (const auto& [known, unused] : (*object_schema)["properties"].items()) {
    const size_t d = edit_distance(key, known);
    if (d < best_distance && d < known.size()) {
      best = known;
      best_distance = d;
    }
  }
  return best.empty() ? "" : "; did you mean \"" + best + "\"?";
}

// One valijson error -> "<pointer>: <what was expected>".
ConfigError describe(const CompiledSchema& s, const json& doc,
                     const valijson::ValidationResults::Error& err) {
  std::vector<std::string> tokens = context_tokens(err.context);
  const std::string& text = err.description;
  static constexpr std::string_view kUnknown =
      "Object contains a property that could not be validated";
  static constexpr std::string_view kMissing = "Missing required property '";
  if (text.rfind(kUnknown, 0) == 0) {
    // The key is quoted at the end: "...constraints: 'bogus'." The first ": '" is ours: the
    // key itself may contain one ({"it's: 'x'": 1}).
    const size_t open = text.find(": '");
    std::string key;
    if (open != std::string::npos && text.size() >= open + 5)
      key = text.substr(open + 3, text.size() - open - 5);
    const json* parent = schema_node(s.doc, tokens);
    tokens.push_back(key);
    return ConfigError{to_pointer(tokens), "unknown key" + suggestion(parent, key)};
  }
  if (text.rfind(kMissing, 0) == 0) {
    const std::string key = text.substr(kMissing.size(), text.size() - kMissing.size() - 2);
    return ConfigError{to_pointer(tokens), "missing required key \"" + key + "\""};
  }
  const std::string pointer = to_pointer(tokens);
  const json* node = schema_node(s.doc, tokens);
  const json* value = value_at(doc, pointer);
  if (!node || !value) return ConfigError{pointer, text};
  return ConfigError{pointer, expectation(*node, *value, text)};
}

// Every schema error in the document, one per JSON pointer (in key order).
std::vector<ConfigError> validate(const json& doc) {
  const CompiledSchema& s = compiled_schema();
  if (!s.error.empty()) return {ConfigError{"", s.error}};
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(s.schema, target, &results)) return {};
  std::vector<ConfigError> errors;
  for (const auto& err : results) {
    if (is_summary(err.description)) continue;
    ConfigError e = describe(s, doc, err);
    if (std::none_of(errors.begin(), errors.end(),
                     [&](const ConfigError& x) { return x.pointer == e.pointer; }))
      errors.push_back(std::move(e));
  }
  if (errors.empty()) errors.push_back(ConfigError{"", "does not match the schema"});
  return errors;
}

// ---- json -> Config (the schema has already vouched for types and ranges) ----

template <typename T>
void take(const json& obj, const char* key, T* out) {
  if (auto it = obj.find(key); it != obj.end()) *out = it->get<T>();
}

std::vector<std::string> take_strings(const json& arr) {
  std::vector<std::string> out;
  for (const auto& e : arr) out.push_back(e.get<std::string>());
  return out;
}

// Origins compare case-insensitively (RFC 6454 §4 lowercases scheme and host), and browsers
// send them lowercase, so store them lowercase.
std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

PublishRight to_publish_right(const std::string& s) {
  if (s == "clients") return PublishRight::kClients;
  if (s == "http") return PublishRight::kHttp;
  return PublishRight::kBoth;
}

auth::ChannelPolicy to_policy(const std::string& s) {
  if (s == "authenticated") return auth::ChannelPolicy::kAuthenticated;
  if (s == "claims") return auth::ChannelPolicy::kClaims;
  return auth::ChannelPolicy::kAnyone;
}

void fill_auth(const json& j, AuthConfig* a) {
  if (auto m = j.find("mode"); m != j.end()) {
    const std::string& s = m->get_ref<const std::string&>();
    a->mode = s == "required"   ? auth::AuthMode::kRequired
              : s == "optional" ? auth::AuthMode::kOptional
                                : auth::AuthMode::kNone;
  }
  if (auto it = j.find("keys"); it != j.end()) {
    for (const auto& k : *it) {
      AuthKeyConfig key;
      take(k, "kid", &key.kid);
      take(k, "alg", &key.alg);
      take(k, "secret", &key.secret);
      take(k, "pem", &key.pem);
      take(k, "file", &key.file);
      a->keys.push_back(std::move(key));
    }
  }
  if (auto it = j.find("audience"); it != j.end())
    a->audience =
        it->is_string() ? std::vector<std::string>{it->get<std::string>()} : take_strings(*it);
  take(j, "issuer", &a->issuer);
  take(j, "require_exp", &a->require_exp);
  take(j, "leeway_s", &a->leeway_s);
  if (auto it = j.find("revoked"); it != j.end()) {
    if (auto s = it->find("subs"); s != it->end()) a->revoked_subs = take_strings(*s);
    if (auto s = it->find("jtis"); s != it->end()) a->revoked_jtis = take_strings(*s);
  }
  take(j, "timeout_ms", &a->timeout_ms);
  take(j, "cookie", &a->cookie);
}

void fill_limits(const json& j, Limits* l) {
  take(j, "max_connections", &l->max_connections);
  take(j, "max_message_bytes", &l->max_message_bytes);
  take(j, "max_fragments", &l->max_fragments);
  take(j, "max_queue_bytes", &l->max_queue_bytes);
  take(j, "queue_soft_bytes", &l->queue_soft_bytes);
  take(j, "queue_soft_seconds", &l->queue_soft_seconds);
  take(j, "handshake_timeout_ms", &l->handshake_timeout_ms);
  take(j, "max_header_bytes", &l->max_header_bytes);
  take(j, "max_headers", &l->max_headers);
  take(j, "ping_interval_ms", &l->ping_interval_ms);
  take(j, "pong_timeout_ms", &l->pong_timeout_ms);
  take(j, "max_channels_per_client", &l->max_channels_per_client);
  take(j, "drain_timeout_ms", &l->drain_timeout_ms);
  take(j, "max_total_queue_bytes", &l->max_total_queue_bytes);
  take(j, "socket_send_buffer", &l->socket_send_buffer);
  take(j, "max_history_bytes", &l->max_history_bytes);
  take(j, "max_connections_per_ip", &l->max_connections_per_ip);
  take(j, "max_connections_per_user", &l->max_connections_per_user);
}

// ---- access keys (README "Securing wsrelay") ----

RateLimitConfig rate_limit_of(const json& j) {
  RateLimitConfig r;
  take(j, "messages_per_s", &r.messages_per_s);
  take(j, "message_burst", &r.message_burst);
  take(j, "bytes_per_s", &r.bytes_per_s);
  take(j, "byte_burst", &r.byte_burst);
  return r;
}

void fill_access(const json& j, Config* c) {
  if (auto it = j.find("api_keys"); it != j.end()) {
    for (const auto& e : *it) {
      ApiKeyConfig k;
      take(e, "name", &k.name);
      take(e, "secret", &k.secret);
      take(e, "file", &k.file);
      if (auto ch = e.find("channels"); ch != e.end()) k.channels = take_strings(*ch);
      c->api_keys.push_back(std::move(k));
    }
  }
  if (auto it = j.find("trusted_proxies"); it != j.end()) c->trusted_proxies = take_strings(*it);
  if (auto it = j.find("public_origins"); it != j.end() && !it->is_null()) {
    c->public_origins = take_strings(*it);
    for (auto& o : *c->public_origins) o = lowercase(o);
  }
  if (auto it = j.find("metrics_access"); it != j.end() && !it->is_null()) {
    MetricsAccess m;
    take(*it, "token", &m.token);
    take(*it, "token_file", &m.token_file);
    if (auto a = it->find("allow"); a != it->end()) m.allow = take_strings(*a);
    c->metrics_access = std::move(m);
  }
  if (auto it = j.find("rate_limit"); it != j.end() && !it->is_null())
    c->rate_limit = rate_limit_of(*it);
}

Config to_config(const json& j, const std::string& source) {
  Config c;
  c.source_path = source;
  take(j, "listen", &c.listen);
  take(j, "metrics_listen", &c.metrics_listen);
  take(j, "log_level", &c.log_level);
  take(j, "demo", &c.demo);
  if (auto it = j.find("workers"); it != j.end() && !it->is_null()) {
    c.workers = it->get<uint32_t>();
    if (c.workers == 0) c.workers = kWorkersPerCpu;  // "0": every CPU the process may use
  }
  // null = unset, like leaving the key out.
  if (auto it = j.find("tls"); it != j.end() && !it->is_null())
    c.tls = TlsConfig{it->at("cert").get<std::string>(), it->at("key").get<std::string>()};
  if (auto it = j.find("allowed_origins"); it != j.end() && !it->is_null()) {
    c.allowed_origins = take_strings(*it);
    for (auto& o : *c.allowed_origins) o = lowercase(o);
  }
  if (auto it = j.find("subprotocols"); it != j.end() && !it->is_null())
    c.subprotocols = take_strings(*it);
  if (auto it = j.find("limits"); it != j.end()) fill_limits(*it, &c.limits);
  if (auto it = j.find("channels"); it != j.end()) {
    for (const auto& e : *it) {
      ChannelOptions o;
      take(e, "match", &o.match);
      take(e, "echo", &o.echo);
      take(e, "max_subscribers", &o.max_subscribers);
      take(e, "max_message_bytes", &o.max_message_bytes);
      if (auto p = e.find("publish"); p != e.end())
        o.publish = to_publish_right(p->get<std::string>());
      if (auto z = e.find("compression"); z != e.end()) {
        take(*z, "enabled", &o.compression.enabled);
        take(*z, "min_bytes", &o.compression.min_bytes);
        take(*z, "level", &o.compression.level);
      }
      take(e, "history_size", &o.history_size);
      take(e, "history_ttl", &o.history_ttl);
      take(e, "presence", &o.presence);
      if (auto r = e.find("rate_limit"); r != e.end() && !r->is_null())
        o.rate_limit = rate_limit_of(*r);
      if (auto a = e.find("access"); a != e.end()) {
        if (auto s = a->find("subscribe"); s != a->end())
          o.access.subscribe = to_policy(s->get<std::string>());
        if (auto s = a->find("publish"); s != a->end())
          o.access.publish = to_policy(s->get<std::string>());
      }
      c.channels.push_back(std::move(o));
    }
  }
  if (auto it = j.find("auth"); it != j.end()) fill_auth(*it, &c.auth);
  fill_access(j, &c);
  if (auto it = j.find("broker"); it != j.end()) {
    take(*it, "type", &c.broker.type);
    take(*it, "address", &c.broker.address);
    take(*it, "username", &c.broker.username);
    take(*it, "password_file", &c.broker.password_file);
    take(*it, "prefix", &c.broker.prefix);
    take(*it, "tls", &c.broker.tls);
  }
  return c;
}

ConfigResult failure(std::vector<ConfigError> errors) {
  ConfigResult r;
  r.error = errors.front();
  r.errors = std::move(errors);
  return r;
}

ConfigResult failure(std::string pointer, std::string message) {
  return failure({ConfigError{std::move(pointer), std::move(message)}});
}

// Reads a whole regular file of at most kMaxConfigBytes; returns 0 or an errno value.
int read_small_file(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat st {};
  int err = 0;
  if (::fstat(fd, &st) != 0)
    err = errno;
  else if (S_ISDIR(st.st_mode))
    err = EISDIR;
  char buf[16384];
  while (err == 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > kMaxConfigBytes) err = EFBIG;
  }
  ::close(fd);
  return err;
}

}  // namespace

std::string ConfigError::to_string() const {
  return pointer.empty() ? "config: " + message : "config: " + pointer + ": " + message;
}

bool Config::compression_wanted(bool json, std::string_view channel) const noexcept {
  if (!json) return options_for(channel).compression.enabled;
  for (const auto& o : channels)
    if (o.compression.enabled) return true;
  return false;
}

const ChannelOptions& Config::options_for(std::string_view name) const noexcept {
  static const ChannelOptions kDefaults;
  for (const auto& o : channels) {
    if (!o.match.empty() && o.match.back() == '*') {
      std::string_view prefix(o.match.data(), o.match.size() - 1);
      if (name.substr(0, prefix.size()) == prefix) return o;
    } else if (name == o.match) {
      return o;
    }
  }
  return kDefaults;
}

ConfigResult parse_config(std::string_view json_text, const std::string& source) {
  try {
    json doc;
    const json_strict::Outcome parsed = json_strict::parse(json_text, &doc);
    if (parsed.status == json_strict::Outcome::Status::kSyntax)
      return failure("", parsed.to_string());
    if (parsed.status == json_strict::Outcome::Status::kDuplicateKey)
      return failure(parsed.pointer, "duplicate key (JSON parsers disagree on which one wins)");
    if (auto errors = validate(doc); !errors.empty()) return failure(std::move(errors));
    ConfigResult r;
    r.config = to_config(doc, source);
    return r;
  } catch (const std::exception& e) {
    // Defensive: the schema should have excluded anything that makes to_config() throw.
    return failure("", std::string("cannot load: ") + e.what());
  }
}

ConfigResult load_config(const std::string& path) {
  if (path.empty()) {
    ConfigResult r;
    r.config = Config{};
    return r;
  }
  std::string text;
  if (int err = read_small_file(path, &text))
    return failure("", "cannot read " + path + ": " + std::strerror(err));
  return parse_config(text, path);
}

}  // namespace relay::daemon
