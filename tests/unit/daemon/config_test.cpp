// SPDX-License-Identifier: MIT
// daemon/config: defaults, the committed config files, schema errors reported with the JSON
// pointer of the bad field, semantic checks, and the real binary exiting 78 before binding.
#include "config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "config_print.h"
#include "config_schema.h"
#include "run_binary.h"

namespace relay::daemon {
namespace {

using testing::RunResult;
using testing::TempDir;

const std::string kSource = RELAY_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Parse + semantic checks, as start-up does; returns the error (or an empty one).
ConfigError first_error(const std::string& json_text) {
  ConfigResult r = parse_config(json_text, "test.json");
  if (!r) return r.error;
  if (auto e = check_config_semantics(*r.config)) return *e;
  return {};
}

TEST(Config, BuiltInDefaultsNeedNoFile) {
  ConfigResult r = load_config("");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r.config, Config{});
  EXPECT_EQ(r.config->listen, "127.0.0.1:8080");
  EXPECT_EQ(r.config->metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(r.config->limits.max_message_bytes, 65536u);
  EXPECT_FALSE(check_config_semantics(*r.config).has_value());
}

TEST(Config, EmptyObjectIsTheDefaults) {
  ConfigResult r = parse_config("{}", "x.json");
  ASSERT_TRUE(r) << r.error.to_string();
  Config expected;
  expected.source_path = "x.json";
  EXPECT_EQ(*r.config, expected);
}

// The example is the packaged /etc/wsrelay/config.json: the defaults, but no demo page.
TEST(Config, ExampleFileEqualsTheDefaultsButTheDemo) {
  const std::string path = kSource + "/config/wsrelay.example.json";
  ConfigResult r = load_config(path);
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->source_path, path);
  r.config->source_path.clear();
  EXPECT_FALSE(r.config->demo);
  EXPECT_TRUE(Config{}.demo);  // the built-in default (quick start) keeps it
  Config expected;
  expected.demo = false;
  EXPECT_EQ(*r.config, expected);
  EXPECT_FALSE(check_config_semantics(*r.config).has_value());
}

// Every property the schema knows appears in the example (recursing into objects).
void expect_all_keys(const nlohmann::json& schema, const nlohmann::json& example,
                     const std::string& where) {
  ASSERT_TRUE(schema.contains("properties")) << where;
  for (const auto& [key, sub] : schema["properties"].items()) {
    ASSERT_TRUE(example.contains(key)) << "example lacks " << where << "/" << key;
    if (sub.contains("properties") && example[key].is_object())
      expect_all_keys(sub, example[key], where + "/" + key);
  }
}

TEST(Config, ExampleFileHasEveryKeyOfTheSchema) {
  const auto schema = nlohmann::json::parse(config_schema_json());
  const auto example = nlohmann::json::parse(read_text(kSource + "/config/wsrelay.example.json"));
  expect_all_keys(schema, example, "");
}

TEST(Config, EmbeddedSchemaIsTheCommittedFile) {
  EXPECT_EQ(config_schema_json(), read_text(kSource + "/config/wsrelay.schema.json"));
}

TEST(Config, MinimalFileLoads) {
  ConfigResult r = load_config(kSource + "/config/minimal.json");
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_FALSE(check_config_semantics(*r.config).has_value());
}

TEST(Config, EveryKeySetIsCopied) {
  ConfigResult r = parse_config(R"({
    "listen": "[::1]:9000", "metrics_listen": "", "log_level": "debug", "demo": false,
    "allowed_origins": ["https://App.Example.com", "*"], "subprotocols": ["chat.v1"],
    "limits": {"max_connections": 5, "max_message_bytes": 1000, "max_fragments": 3,
               "max_queue_bytes": 2048, "queue_soft_bytes": 1024, "queue_soft_seconds": 2,
               "handshake_timeout_ms": 500, "max_header_bytes": 4096, "max_headers": 10,
               "ping_interval_ms": 1000, "pong_timeout_ms": 2000,
               "max_channels_per_client": 7, "drain_timeout_ms": 0},
    "channels": [{"match": "chat.*", "echo": true, "max_subscribers": 3,
                  "max_message_bytes": 100, "publish": "clients"},
                 {"match": "news", "publish": "http"}]
  })",
                                "t.json");
  ASSERT_TRUE(r) << r.error.to_string();
  const Config& c = *r.config;
  EXPECT_EQ(c.listen, "[::1]:9000");
  EXPECT_EQ(c.metrics_listen, "");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_FALSE(c.demo);
  EXPECT_FALSE(c.tls.has_value());
  ASSERT_TRUE(c.allowed_origins.has_value());
  EXPECT_EQ(*c.allowed_origins, (std::vector<std::string>{"https://app.example.com", "*"}));
  EXPECT_EQ(*c.subprotocols, std::vector<std::string>{"chat.v1"});
  EXPECT_EQ(c.limits.max_connections, 5u);
  EXPECT_EQ(c.limits.max_message_bytes, 1000u);
  EXPECT_EQ(c.limits.max_fragments, 3u);
  EXPECT_EQ(c.limits.max_queue_bytes, 2048u);
  EXPECT_EQ(c.limits.queue_soft_bytes, 1024u);
  EXPECT_EQ(c.limits.queue_soft_seconds, 2u);
  EXPECT_EQ(c.limits.handshake_timeout_ms, 500u);
  EXPECT_EQ(c.limits.max_header_bytes, 4096u);
  EXPECT_EQ(c.limits.max_headers, 10u);
  EXPECT_EQ(c.limits.ping_interval_ms, 1000u);
  EXPECT_EQ(c.limits.pong_timeout_ms, 2000u);
  EXPECT_EQ(c.limits.max_channels_per_client, 7u);
  EXPECT_EQ(c.limits.drain_timeout_ms, 0u);
  ASSERT_EQ(c.channels.size(), 2u);
  EXPECT_EQ(
      c.channels[0],
      (ChannelOptions{"chat.*", true, 3, 100, PublishRight::kClients, {}, 0, 0, false, {}, {}}));
  EXPECT_EQ(c.channels[1],
            (ChannelOptions{"news", false, 0, 0, PublishRight::kHttp, {}, 0, 0, false, {}, {}}));
  EXPECT_FALSE(check_config_semantics(c).has_value());
}

TEST(Config, QueueBudgetAndSendBuffer) {
  ConfigResult r = parse_config("{}", "t");
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->limits.max_total_queue_bytes, 0u);  // the machine's default
  EXPECT_EQ(r.config->limits.socket_send_buffer, 65536u);
  r = parse_config(
      R"({"limits": {"max_total_queue_bytes": 1099511627776, "socket_send_buffer": 0}})", "t");
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->limits.max_total_queue_bytes, 1099511627776u);
  EXPECT_EQ(r.config->limits.socket_send_buffer, 0u);  // the kernel's autotuning
  EXPECT_FALSE(parse_config(R"({"limits": {"socket_send_buffer": -1}})", "t"));
  EXPECT_FALSE(parse_config(R"({"limits": {"max_total_queue_bytes": 1099511627777}})", "t"));
}

TEST(Config, LargeIntegersFitTheirFields) {
  ConfigResult r = parse_config(R"({"limits": {"max_queue_bytes": 1099511627776}})", "t");
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->limits.max_queue_bytes, 1099511627776u);
  r = parse_config(R"({"channels": [{"match": "a", "max_subscribers": 4294967295}]})", "t");
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->channels[0].max_subscribers, 4294967295u);
}

TEST(Config, OptionsForTakesTheFirstMatch) {
  ConfigResult r = parse_config(R"({"channels": [
      {"match": "chat.vip", "max_subscribers": 1}, {"match": "chat.*", "echo": true},
      {"match": "*", "publish": "http"}]})",
                                "t");
  ASSERT_TRUE(r) << r.error.to_string();
  const Config& c = *r.config;
  EXPECT_EQ(c.options_for("chat.vip").max_subscribers, 1u);
  EXPECT_FALSE(c.options_for("chat.vip").echo);
  EXPECT_TRUE(c.options_for("chat.room1").echo);
  EXPECT_TRUE(c.options_for("chat.").echo);
  EXPECT_EQ(c.options_for("chat").publish, PublishRight::kHttp);
  EXPECT_EQ(c.options_for("other").publish, PublishRight::kHttp);
  Config plain;
  plain.channels.push_back({"exact", true, 0, 0, PublishRight::kBoth, {}, 0, 0, false, {}, {}});
  EXPECT_TRUE(plain.options_for("exact").echo);
  EXPECT_FALSE(plain.options_for("exactly").echo);
  EXPECT_FALSE(plain.options_for("exac").echo);
  EXPECT_EQ(plain.options_for("none"), ChannelOptions{});
}

TEST(Config, ErrorTextNamesThePointer) {
  EXPECT_EQ((ConfigError{"/limits/max_connections", "must be >= 1"}).to_string(),
            "config: /limits/max_connections: must be >= 1");
  EXPECT_EQ((ConfigError{"", "cannot read x"}).to_string(), "config: cannot read x");
}

struct BadCase {
  const char* kind;
  const char* json;
  const char* pointer;
  const char* message;  // a substring of the message
};

const BadCase kBadCases[] = {
    {"unknown key", R"({"listen": "127.0.0.1:1", "bogus": 1})", "/bogus", "unknown key"},
    {"unknown nested key", R"({"limits": {"max_conections": 5}})", "/limits/max_conections",
     "unknown key"},
    {"unknown key in a channel", R"({"channels": [{"match": "a"}, {"match": "b", "x": 1}]})",
     "/channels/1/x", "unknown key"},
    {"key with a slash", R"({"a/b~c": 1})", "/a~1b~0c", "unknown key"},
    {"wrong type", R"({"demo": "yes"})", "/demo", "must be a boolean"},
    {"wrong nested type", R"({"limits": {"max_connections": "10"}})", "/limits/max_connections",
     "must be an integer"},
    {"fraction for an integer", R"({"limits": {"max_headers": 1.5}})", "/limits/max_headers",
     "must be an integer"},
    {"wrong top-level type", R"([1, 2])", "", "must be an object"},
    {"nullable of wrong type", R"({"tls": 5})", "/tls", "must be an object or null"},
    {"out of range, low", R"({"limits": {"max_connections": 0}})", "/limits/max_connections",
     "must be >= 1"},
    {"out of range, high", R"({"limits": {"handshake_timeout_ms": 600001}})",
     "/limits/handshake_timeout_ms", "must be <= 600000"},
    {"negative", R"({"channels": [{"match": "a", "max_subscribers": -1}]})",
     "/channels/0/max_subscribers", "must be >= 0"},
    {"bad enum", R"({"log_level": "loud"})", "/log_level", "must be one of \"trace\""},
    {"bad nested enum", R"({"channels": [{"match": "a", "publish": "anyone"}]})",
     "/channels/0/publish", "must be one of \"clients\", \"http\", \"both\""},
    {"bad listen address (syntax)", R"({"listen": "localhost"})", "/listen", "HOST:PORT"},
    {"bad listen address (IPv4)", R"({"listen": "300.1.1.1:80"})", "/listen",
     "not a numeric IPv4 address"},
    {"bad listen address (port)", R"({"listen": "127.0.0.1:65536"})", "/listen",
     "port must be a number from 0 to 65535"},
    {"bad listen address (IPv6)", R"({"listen": "[1::2::3]:80"})", "/listen",
     "not a numeric IPv6 address"},
    {"bad metrics address", R"({"metrics_listen": "example.com:9464"})", "/metrics_listen",
     "HOST:PORT"},
    {"metrics on the public port",
     R"({"listen": "0.0.0.0:8080", "metrics_listen": "127.0.0.1:8080"})", "/metrics_listen",
     "same port"},
    {"bad channel pattern", R"({"channels": [{"match": "a*b"}]})", "/channels/0/match",
     "channel name"},
    {"missing required key", R"({"channels": [{"echo": true}]})", "/channels/0",
     "missing required key \"match\""},
    {"missing TLS key", R"({"tls": {"cert": "/c.pem"}})", "/tls", "missing required key \"key\""},
    {"unreadable TLS cert",
     R"({"tls": {"cert": "/nonexistent/c.pem", "key": "/nonexistent/k.pem"}})", "/tls/cert",
     "cannot read /nonexistent/c.pem"},
    {"origin null", R"({"allowed_origins": ["null"]})", "/allowed_origins/0", "\"null\""},
    {"origin with a path", R"({"allowed_origins": ["*", "https://a.example/x"]})",
     "/allowed_origins/1", "scheme://host[:port]"},
    {"origin with a default port", R"({"allowed_origins": ["https://a.example:443"]})",
     "/allowed_origins/0", "default port"},
    {"origin with a bad port", R"({"allowed_origins": ["http://a.example:0"]})",
     "/allowed_origins/0", "port"},
    {"bad subprotocol token", R"({"subprotocols": ["chat v1"]})", "/subprotocols/0", "token"},
    {"soft over hard queue limit",
     R"({"limits": {"max_queue_bytes": 4096, "queue_soft_bytes": 8192}})",
     "/limits/queue_soft_bytes", "<= /limits/max_queue_bytes"},
    {"malformed JSON", "{\"listen\": \"127.0.0.1:1\",\n \"demo\": tru }", "",
     "malformed JSON at byte "},
    {"trailing garbage", "{} x", "", "malformed JSON at byte 4"},
    {"empty file", "", "", "malformed JSON at byte 1"},
};

TEST(Config, InvalidConfigsNameThePointer) {
  for (const BadCase& c : kBadCases) {
    SCOPED_TRACE(c.kind);
    const ConfigError e = first_error(c.json);
    EXPECT_EQ(e.pointer, c.pointer) << e.to_string();
    EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(Config, MissingFileIsAnError) {
  ConfigResult r = load_config("/nonexistent/wsrelay.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.pointer, "");
  EXPECT_NE(r.error.message.find("No such file"), std::string::npos) << r.error.message;
  r = load_config("/");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.message.find("directory"), std::string::npos) << r.error.message;
}

// ---- every error at once, duplicates, typos, origins (issue 14) ----

std::vector<std::string> error_lines(const ConfigResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

TEST(Config, ReportsEverySchemaError) {
  const ConfigResult r = parse_config(R"({"lisen": "127.0.0.1:1", "log_level": "loud",
      "limits": {"max_connections": 0, "ping_interval_ms": "x"},
      "channels": [{"match": "a", "echo": 3}, {"echo": true}]})",
                                      "t.json");
  ASSERT_FALSE(r);
  std::set<std::string> pointers;
  for (const auto& e : r.errors) pointers.insert(e.pointer);
  EXPECT_EQ(pointers,
            (std::set<std::string>{"/lisen", "/log_level", "/limits/max_connections",
                                   "/limits/ping_interval_ms", "/channels/0/echo", "/channels/1"}))
      << ::testing::PrintToString(error_lines(r));
  EXPECT_EQ(r.errors.size(), pointers.size());  // one line per pointer, no summaries
  EXPECT_EQ(r.error.to_string(), r.errors.front().to_string());
}

TEST(Config, DuplicateKeysAreErrorsNamingThePointer) {
  const struct {
    const char* json;
    const char* pointer;
  } cases[] = {
      {R"({"demo": true, "demo": false})", "/demo"},
      {R"({"limits": {"max_headers": 3, "max_headers": 4}})", "/limits/max_headers"},
      {R"({"channels": [{"match": "a"}, {"match": "b", "echo": true, "match": "c"}]})",
       "/channels/1/match"},
      {R"({"channels": [{"match": "a/b", "a~b": 1, "a~b": 2}]})", "/channels/0/a~0b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const ConfigResult r = parse_config(c.json, "t.json");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error.pointer, c.pointer);
    EXPECT_NE(r.error.message.find("duplicate key"), std::string::npos) << r.error.to_string();
  }
  // A syntax error after the repeat is the one reported (config_fuzz found this).
  const ConfigResult broken = parse_config(R"({"demo": true, "demo": false, )", "t.json");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error.pointer, "");
  EXPECT_EQ(broken.error.message.rfind("malformed JSON at byte ", 0), 0u) << broken.error.message;
  // Equal keys in different objects are fine.
  EXPECT_TRUE(parse_config(R"({"channels": [{"match": "a"}, {"match": "b"}]})", "t.json"));
}

TEST(Config, UnknownKeySuggestsTheNearestKnownOne) {
  const struct {
    const char* json;
    const char* line;
  } cases[] = {
      {R"({"lisen": "x"})", "config: /lisen: unknown key; did you mean \"listen\"?"},
      {R"({"limits": {"max_conections": 5}})",
       "config: /limits/max_conections: unknown key; did you mean \"max_connections\"?"},
      {R"({"channels": [{"match": "a", "ecko": true}]})",
       "config: /channels/0/ecko: unknown key; did you mean \"echo\"?"},
      {R"({"bogus": true})", "config: /bogus: unknown key"},  // nothing near: no guess
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const ConfigResult r = parse_config(c.json, "t.json");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error.to_string(), c.line);
  }
}

TEST(Config, BadOriginsSayWhatTheRightFormIs) {
  for (const char* origin :
       {"https://a.example/path", "a.example", "https://a.example:99999", "https://a.example:"}) {
    SCOPED_TRACE(origin);
    const ConfigError e = first_error(std::string(R"({"allowed_origins": [")") + origin + "\"]}");
    EXPECT_EQ(e.pointer, "/allowed_origins/0");
    EXPECT_NE(e.message.find("scheme://host[:port] with no path, like https://example.com:8443"),
              std::string::npos)
        << e.to_string();
  }
  const ConfigError e = first_error(R"({"allowed_origins": ["https://a.example:443"]})");
  EXPECT_NE(e.message.find("write https://a.example"), std::string::npos) << e.to_string();
}

TEST(Config, SemanticErrorsAreAllReported) {
  Config c;
  c.listen = "127.0.0.1:9464";  // the metrics port too
  c.allowed_origins = {{"http://a.example:80", "*", "https://b.example/x"}};
  c.limits.queue_soft_bytes = c.limits.max_queue_bytes + 1;
  std::set<std::string> pointers;
  for (const auto& e : config_semantic_errors(c)) pointers.insert(e.pointer);
  EXPECT_EQ(pointers, (std::set<std::string>{"/metrics_listen", "/allowed_origins/0",
                                             "/allowed_origins/2", "/limits/queue_soft_bytes"}));
  ASSERT_TRUE(check_config_semantics(c).has_value());
}

TEST(Config, PrintedConfigParsesBackToTheSameConfig) {
  Config c;
  c.listen = "[::1]:7000";
  c.metrics_listen = "";
  c.log_level = "debug";
  c.tls = TlsConfig{"/etc/c.pem", "/etc/k.pem"};
  c.allowed_origins = {{"https://a.example", "*"}};
  c.subprotocols = {{"chat.v1"}};
  c.demo = false;
  c.limits.max_queue_bytes = 1ull << 40;
  c.limits.drain_timeout_ms = 0;
  c.channels = {
      ChannelOptions{"chat.*", true, 5, 100, PublishRight::kClients, {}, 0, 0, false, {}, {}},
      ChannelOptions{"news", false, 0, 0, PublishRight::kHttp, {}, 0, 0, false, {}, {}}};
  c.source_path = "t.json";
  const std::string text = config_to_json(c);
  const ConfigResult r = parse_config(text, "t.json");
  ASSERT_TRUE(r) << r.error.to_string() << "\n" << text;
  EXPECT_EQ(*r.config, c) << text;

  // Every key of the schema is printed, at every level.
  const nlohmann::json printed = nlohmann::json::parse(config_to_json(Config{}));
  const nlohmann::json schema = nlohmann::json::parse(config_schema_json());
  for (const auto& [key, unused] : schema["properties"].items())
    EXPECT_TRUE(printed.contains(key)) << key;
  for (const auto& [key, unused] : schema["properties"]["limits"]["properties"].items())
    EXPECT_TRUE(printed["limits"].contains(key)) << key;
  const nlohmann::json one = nlohmann::json::parse(config_to_json(c))["channels"][0];
  for (const auto& [key, unused] : schema["properties"]["channels"]["items"]["properties"].items())
    EXPECT_TRUE(one.contains(key)) << key;
}

// ---- TLS files: made with the openssl command line in a temp dir ----

class TlsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string d = dir_.path();
    const std::string cmd =
        "cd " + d +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
        " -subj /CN=localhost -keyout key.pem -out cert.pem >/dev/null 2>&1"
        " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.pem"
        " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl command line not available";
  }
  std::string path(const char* name) const { return dir_.path() + "/" + name; }
  ConfigError check(const std::string& cert, const std::string& key) const {
    Config c;
    c.tls = TlsConfig{cert, key};
    auto e = check_config_semantics(c);
    return e ? *e : ConfigError{};
  }
  TempDir dir_;
};

TEST_F(TlsFiles, MatchingPairPasses) {
  const ConfigError e = check(path("cert.pem"), path("key.pem"));
  EXPECT_TRUE(e.message.empty()) << e.to_string();
}

TEST_F(TlsFiles, UnreadableKeyNamesTlsKey) {
  const ConfigError e = check(path("cert.pem"), path("missing.pem"));
  EXPECT_EQ(e.pointer, "/tls/key");
  EXPECT_NE(e.message.find("cannot read"), std::string::npos) << e.to_string();
}

TEST_F(TlsFiles, KeyGivenAsCertIsRejected) {
  const ConfigError e = check(path("key.pem"), path("key.pem"));
  EXPECT_EQ(e.pointer, "/tls/cert");
  EXPECT_NE(e.message.find("no PEM certificate"), std::string::npos) << e.to_string();
}

TEST_F(TlsFiles, CertGivenAsKeyIsRejected) {
  const ConfigError e = check(path("cert.pem"), path("cert.pem"));
  EXPECT_EQ(e.pointer, "/tls/key");
  EXPECT_NE(e.message.find("private key"), std::string::npos) << e.to_string();
}

TEST_F(TlsFiles, KeyOfAnotherCertIsRejected) {
  const ConfigError e = check(path("cert.pem"), path("other.pem"));
  EXPECT_EQ(e.pointer, "/tls/key");
  EXPECT_NE(e.message.find("does not match"), std::string::npos) << e.to_string();
}

// ---- the real binary ----

TEST(ConfigBinary, CheckConfigAcceptsTheCommittedFiles) {
  for (const char* f : {"/config/wsrelay.example.json", "/config/minimal.json"}) {
    const RunResult r = testing::run_wsrelay({"--check-config", "--config", kSource + f});
    EXPECT_EQ(r.exit_code, 0) << f << ": " << r.err;
  }
  const RunResult r = testing::run_wsrelay({"--check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ConfigBinary, CheckConfigExits78AndPrintsThePointer) {
  TempDir dir;
  const struct {
    const char* json;
    const char* expected;  // a line of stderr
  } cases[] = {
      {R"({"limits": {"max_connections": 0}})",
       "wsrelay: config: /limits/max_connections: must be >= 1\n"},
      {R"({"bogus": true})", "wsrelay: config: /bogus: unknown key\n"},
      {R"({"log_level": 3})", "wsrelay: config: /log_level: must be a string\n"},
      {R"({"listen": "1.2.3.4.5:80"})", "wsrelay: config: /listen: "},
      {R"({"tls": {"cert": "/nonexistent.pem", "key": "/nonexistent.pem"}})",
       "wsrelay: config: /tls/cert: cannot read /nonexistent.pem"},
      {"{", "wsrelay: config: malformed JSON at byte 2: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const std::string file = dir.write("bad.json", c.json);
    const RunResult r = testing::run_wsrelay({"--check-config", "--config", file});
    EXPECT_EQ(r.exit_code, kExitConfig);
    EXPECT_EQ(r.err.rfind(c.expected, 0), 0u) << r.err;
    EXPECT_EQ(r.out, "");
  }
  const RunResult missing =
      testing::run_wsrelay({"--check-config", "--config", dir.path() + "/none"});
  EXPECT_EQ(missing.exit_code, kExitConfig);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
}

// A loopback TCP listener on a kernel-chosen port, held for the test's lifetime.
struct HeldPort {
  int fd = -1;
  uint16_t port = 0;
  HeldPort() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 1) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~HeldPort() { close(fd); }
};

// The config is judged before any socket exists: with the --listen port already taken, a
// server that tried to bind would fail with status 1 and a bind error, not 78.
TEST(ConfigBinary, BadConfigExits78BeforeBinding) {
  TempDir dir;
  HeldPort held;
  ASSERT_NE(held.port, 0);
  const std::string listen = "127.0.0.1:" + std::to_string(held.port);
  const std::string file = dir.write("bad.json", R"({"limits": {"max_message_bytes": 0}})");
  const RunResult r = testing::run_wsrelay({"--config", file, "--listen", listen});
  EXPECT_EQ(r.exit_code, kExitConfig) << r.err;
  EXPECT_EQ(r.err, "wsrelay: config: /limits/max_message_bytes: must be >= 1\n");

  // Same with a semantic error found after the override was applied.
  const std::string tls =
      dir.write("tls.json", R"({"tls": {"cert": "/none.pem", "key": "/none.pem"}})");
  const RunResult t = testing::run_wsrelay({"--config", tls, "--listen", listen});
  EXPECT_EQ(t.exit_code, kExitConfig) << t.err;
  EXPECT_EQ(t.err.rfind("wsrelay: config: /tls/cert: ", 0), 0u) << t.err;
}

// channels[].compression: defaults, values, bounds, --print-config round trip, and when an
// upgrade may accept permessage-deflate.
TEST(Config, ChannelCompression) {
  ConfigResult r = parse_config(R"({"channels": [
      {"match": "zip.*", "compression": {"enabled": true, "min_bytes": 0, "level": 9}},
      {"match": "half", "compression": {"enabled": true}},
      {"match": "off.*", "compression": {}}]})",
                                "t");
  ASSERT_TRUE(r) << r.error.to_string();
  const Config& c = *r.config;
  EXPECT_EQ(c.options_for("zip.a").compression, (CompressionOptions{true, 0, 9}));
  EXPECT_EQ(c.options_for("half").compression, (CompressionOptions{true, 64, 1}));
  EXPECT_EQ(c.options_for("off.a").compression, CompressionOptions{});
  EXPECT_FALSE(CompressionOptions{}.enabled);
  EXPECT_TRUE(c.compression_wanted(false, "zip.a"));
  EXPECT_FALSE(c.compression_wanted(false, "off.a"));
  EXPECT_FALSE(c.compression_wanted(false, "other"));
  EXPECT_TRUE(c.compression_wanted(true, ""));  // /ws: some entry compresses
  EXPECT_FALSE(Config{}.compression_wanted(true, ""));
  const ConfigResult back = parse_config(config_to_json(c), "t");
  ASSERT_TRUE(back) << back.error.to_string();
  EXPECT_EQ(back.config->channels, c.channels);
  for (const char* bad : {R"({"channels": [{"match": "a", "compression": {"level": 0}}]})",
                          R"({"channels": [{"match": "a", "compression": {"level": 10}}]})",
                          R"({"channels": [{"match": "a", "compression": {"min_bytes": -1}}]})",
                          R"({"channels": [{"match": "a", "compression": {"enabled": 1}}]})",
                          R"({"channels": [{"match": "a", "compression": {"window": 9}}]})",
                          R"({"channels": [{"match": "a", "compression": true}]})"}) {
    const ConfigResult e = parse_config(bad, "t");
    EXPECT_FALSE(e) << bad;
    EXPECT_EQ(e.error.pointer.rfind("/channels/0/compression", 0), 0u) << e.error.to_string();
  }
}

}  // namespace
}  // namespace relay::daemon
