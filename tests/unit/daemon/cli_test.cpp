// SPDX-License-Identifier: MIT
// daemon/cli: the command line of README "Command line", the overrides it applies to the
// config, and the real binary's exit statuses (0, 64 EX_USAGE, 78 EX_CONFIG).
#include "cli.h"

#include <gtest/gtest.h>

#include "run_binary.h"

namespace relay::daemon {
namespace {

using Action = CliOptions::Action;

CliResult parse(std::initializer_list<std::string_view> args) {
  return parse_cli(std::span<const std::string_view>(args.begin(), args.size()));
}

TEST(Cli, NoArgumentsRunsOnDefaults) {
  const CliResult r = parse({});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.options->action, Action::kRun);
  EXPECT_EQ(r.options->config_path, "");
  EXPECT_FALSE(r.options->listen.has_value());
  EXPECT_FALSE(r.options->metrics_listen.has_value());
}

TEST(Cli, ValuesAsSeparateOrJoinedArguments) {
  for (const auto& r :
       {parse({"--config", "/etc/w.json", "--listen", "0.0.0.0:9000", "--metrics-listen",
               "[::1]:9100"}),
        parse({"--config=/etc/w.json", "--listen=0.0.0.0:9000", "--metrics-listen=[::1]:9100"})}) {
    ASSERT_TRUE(r) << r.error;
    EXPECT_EQ(r.options->action, Action::kRun);
    EXPECT_EQ(r.options->config_path, "/etc/w.json");
    EXPECT_EQ(r.options->listen, "0.0.0.0:9000");
    EXPECT_EQ(r.options->metrics_listen, "[::1]:9100");
  }
}

TEST(Cli, EmptyMetricsListenTurnsItOff) {
  const CliResult r = parse({"--metrics-listen", ""});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.options->metrics_listen, "");
  EXPECT_TRUE(parse({"--metrics-listen="}));
}

TEST(Cli, Actions) {
  EXPECT_EQ(parse({"--check-config"}).options->action, Action::kCheckConfig);
  EXPECT_EQ(parse({"--version"}).options->action, Action::kVersion);
  EXPECT_EQ(parse({"--help"}).options->action, Action::kHelp);
  EXPECT_EQ(parse({"-h"}).options->action, Action::kHelp);
  EXPECT_EQ(parse({"--check-config", "--help"}).options->action, Action::kHelp);
  EXPECT_EQ(parse({"--version", "--check-config"}).options->action, Action::kVersion);
  EXPECT_EQ(parse({"--config", "x.json", "--check-config"}).options->config_path, "x.json");
  EXPECT_EQ(parse({"--print-config"}).options->action, Action::kPrintConfig);
  EXPECT_EQ(parse({"--print-config", "p.json"}).options->config_path, "p.json");
  EXPECT_EQ(parse({"--print-config", "--listen", "127.0.0.1:1"}).options->config_path, "");
}

TEST(Cli, UsageErrors) {
  const struct {
    std::initializer_list<std::string_view> args;
    const char* error;
  } cases[] = {
      {{"--bogus"}, "unknown option --bogus"},
      {{"-x"}, "unknown option -x"},
      {{"config.json"}, "unknown option config.json"},
      {{"--config"}, "--config needs a value"},
      {{"--config="}, "--config needs a file name"},
      {{"--listen"}, "--listen needs a value"},
      {{"--listen", "9000"}, "--listen 9000: "},
      {{"--listen", "example.com:80"}, "--listen example.com:80: "},
      {{"--listen", "127.0.0.1:99999"}, "port must be a number"},
      {{"--metrics-listen", "::1:9090"}, "brackets"},
      {{"--help=yes"}, "--help takes no value"},
      {{"--check-config=1"}, "--check-config takes no value"},
      {{"--print-config", "--check-config"}, "separate actions"},
      {{"--config", "a.json", "--print-config", "b.json"}, "--print-config PATH and --config"},
  };
  for (const auto& c : cases) {
    const CliResult r = parse(c.args);
    EXPECT_FALSE(r) << c.error;
    EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
  }
}

TEST(Cli, OverridesReplaceTheFileValues) {
  testing::TempDir dir;
  const std::string file =
      dir.write("c.json", R"({"listen": "127.0.0.1:1111", "metrics_listen": "127.0.0.1:2222"})");
  CliOptions o;
  o.config_path = file;
  ConfigResult r = load_effective_config(o);
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->listen, "127.0.0.1:1111");
  EXPECT_EQ(r.config->source_path, file);

  o.listen = "0.0.0.0:3333";
  o.metrics_listen = "";
  r = load_effective_config(o);
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->listen, "0.0.0.0:3333");
  EXPECT_EQ(r.config->metrics_listen, "");
}

TEST(Cli, OverrideWorksWithoutAFile) {
  CliOptions o;
  o.listen = "0.0.0.0:9000";
  ConfigResult r = load_effective_config(o);
  ASSERT_TRUE(r) << r.error.to_string();
  EXPECT_EQ(r.config->listen, "0.0.0.0:9000");
  EXPECT_EQ(r.config->metrics_listen, "127.0.0.1:9464");
}

// The semantic checks run after the overrides: an override can clash with the file.
TEST(Cli, SemanticChecksSeeTheOverrides) {
  testing::TempDir dir;
  CliOptions o;
  o.config_path = dir.write("c.json", R"({"metrics_listen": "127.0.0.1:7000"})");
  o.listen = "127.0.0.1:7000";
  const ConfigResult r = load_effective_config(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error.pointer, "/metrics_listen");
}

TEST(CliBinary, VersionAndHelp) {
  auto v = testing::run_wsrelay({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, version_text() + "\n");
  EXPECT_EQ(v.out.rfind("wsrelay ", 0), 0u);
  auto h = testing::run_wsrelay({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_EQ(h.out, usage_text());
  EXPECT_EQ(h.err, "");
  EXPECT_NE(h.out.find("--metrics-listen HOST:PORT"), std::string::npos);
}

TEST(CliBinary, UnknownOptionIsAUsageError) {
  const auto r = testing::run_wsrelay({"--frobnicate"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "wsrelay: unknown option --frobnicate\n" + usage_text());
  const auto bad = testing::run_wsrelay({"--listen", "nowhere"});
  EXPECT_EQ(bad.exit_code, kExitUsage);
}

TEST(CliBinary, CheckConfigWithOverrides) {
  const auto ok = testing::run_wsrelay({"--check-config", "--listen", "0.0.0.0:9000"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "wsrelay: config ok (built-in defaults)\n");
  const auto clash = testing::run_wsrelay({"--check-config", "--listen", "127.0.0.1:9464"});
  EXPECT_EQ(clash.exit_code, kExitConfig);
  EXPECT_EQ(clash.err, "wsrelay: config: /metrics_listen: must not be the same port as /listen\n");
}

// The printed config carries the overrides and passes --check-config unchanged.
TEST(CliBinary, PrintConfigRoundTrips) {
  testing::TempDir dir;
  const std::string in = dir.write("in.json", R"({"demo": false, "limits": {"max_headers": 7}})");
  const auto printed =
      testing::run_wsrelay({"--print-config", in, "--metrics-listen", "127.0.0.1:9999"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("\"metrics_listen\": \"127.0.0.1:9999\""), std::string::npos)
      << printed.out;
  EXPECT_NE(printed.out.find("\"max_headers\": 7"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("\"demo\": false"), std::string::npos) << printed.out;
  const std::string out = dir.write("out.json", printed.out);
  const auto checked = testing::run_wsrelay({"--check-config", out});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  const auto again = testing::run_wsrelay({"--print-config", out});
  EXPECT_EQ(again.out, printed.out);

  const std::string bad = dir.write("bad.json", R"({"demo": 1})");
  const auto refused = testing::run_wsrelay({"--print-config", bad});
  EXPECT_EQ(refused.exit_code, kExitConfig);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err, "wsrelay: config: /demo: must be a boolean\n");
}

}  // namespace
}  // namespace relay::daemon

TEST(Cli, CheckConfigTakesAnOptionalPath) {
  const std::vector<std::string_view> with_path = {"--check-config", "/etc/wsrelay/config.json"};
  auto r = relay::daemon::parse_cli(std::span<const std::string_view>(with_path));
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.options->action, relay::daemon::CliOptions::Action::kCheckConfig);
  EXPECT_EQ(r.options->config_path, "/etc/wsrelay/config.json");
  const std::vector<std::string_view> both = {"--config", "a.json", "--check-config", "b.json"};
  EXPECT_FALSE(relay::daemon::parse_cli(std::span<const std::string_view>(both)));
  const std::vector<std::string_view> bare = {"--check-config", "--listen", "127.0.0.1:1"};
  r = relay::daemon::parse_cli(std::span<const std::string_view>(bare));
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.options->config_path, "");
}
