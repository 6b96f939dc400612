// SPDX-License-Identifier: MIT
// Command-line parsing for wsrelay (see cli.h). No I/O here except reading the config.
#include "cli.h"

#include <cstdlib>
#include <vector>

#include "auth/rights.h"
#include "auth/token_issue.h"
#include "listen_address.h"

namespace relay::daemon {
namespace {

CliResult usage_error(std::string message) {
  CliResult r;
  r.error = std::move(message);
  return r;
}

// Splits "--name=value" into name and value; `has_value` tells "--name=" from "--name".
struct Arg {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

Arg split(std::string_view a) {
  const size_t eq = a.find('=');
  if (a.rfind("--", 0) != 0 || eq == std::string_view::npos) return {a, {}, false};
  return {a.substr(0, eq), a.substr(eq + 1), true};
}

// `wsrelay gen-key` (no options) and `wsrelay gen-token [--config PATH] --sub S ...`.
CliResult parse_gen(std::span<const std::string_view> args) {
  CliOptions o;
  const bool token = args[0] == "gen-token";
  o.action = token ? CliOptions::Action::kGenToken : CliOptions::Action::kGenKey;
  for (size_t i = 1; i < args.size(); ++i) {
    const Arg a = split(args[i]);
    if (!token) return usage_error("gen-key takes no options");
    if (a.name != "--config" && a.name != "--sub" && a.name != "--subscribe" &&
        a.name != "--publish" && a.name != "--ttl" && a.name != "--kid")
      return usage_error("unknown gen-token option " + std::string(args[i]));
    std::string value;
    if (a.has_value)
      value = std::string(a.value);
    else if (i + 1 < args.size())
      value = std::string(args[++i]);
    else
      return usage_error(std::string(a.name) + " needs a value");
    if (a.name == "--config") {
      o.config_path = value;
    } else if (a.name == "--sub") {
      o.token.sub = value;
    } else if (a.name == "--kid") {
      o.token.kid = value;
    } else if (a.name == "--ttl") {
      const auto ttl = auth::parse_ttl(value);
      if (!ttl) return usage_error("--ttl " + value + ": must be like 90, 90s, 15m, 1h or 7d");
      o.token.ttl_s = *ttl;
    } else {
      if (!auth::is_valid_pattern(value))
        return usage_error(std::string(a.name) + " " + value +
                           ": must be a channel name or a prefix ending in *");
      (a.name == "--subscribe" ? o.token.subscribe : o.token.publish).push_back(value);
    }
  }
  CliResult r;
  r.options = std::move(o);
  return r;
}

}  // namespace

CliResult parse_cli(std::span<const std::string_view> args) {
  if (!args.empty() && (args[0] == "gen-key" || args[0] == "gen-token")) return parse_gen(args);
  CliOptions o;
  bool help = false;
  bool version = false;
  bool check = false;
  bool print = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const Arg a = split(args[i]);
    const bool takes_value = a.name == "--config" || a.name == "--listen" ||
                             a.name == "--metrics-listen" || a.name == "--healthcheck";
    std::string value;
    if (takes_value) {
      if (a.has_value) {
        value = std::string(a.value);
      } else if (i + 1 < args.size()) {
        value = std::string(args[++i]);
      } else {
        return usage_error(std::string(a.name) + " needs a value");
      }
    } else if (a.has_value) {
      return usage_error(std::string(a.name) + " takes no value");
    }
    if (a.name == "--help" || a.name == "-h")
      help = true;
    else if (a.name == "--version" || a.name == "-V")
      version = true;
    else if (a.name == "--check-config" || a.name == "--print-config") {
      (a.name == "--check-config" ? check : print) = true;
      // `--check-config PATH` reads as `--config PATH --check-config` (as nginx -t -c).
      if (i + 1 < args.size() && !args[i + 1].starts_with("-")) {
        if (!o.config_path.empty())
          return usage_error(std::string(a.name) + " PATH and --config both name a file");
        o.config_path = std::string(args[++i]);
      }
    } else if (a.name == "--healthcheck") {
      if (value.empty()) return usage_error("--healthcheck needs a URL");
      o.healthcheck_url = value;
    } else if (a.name == "--config") {
      if (value.empty()) return usage_error("--config needs a file name");
      o.config_path = value;
    } else if (a.name == "--listen" || a.name == "--metrics-listen") {
      const bool may_be_off = a.name == "--metrics-listen" && value.empty();
      if (auto why = may_be_off ? std::nullopt : listen_address_problem(value))
        return usage_error(std::string(a.name) + " " + value + ": " + *why);
      (a.name == "--listen" ? o.listen : o.metrics_listen) = value;
    } else {
      return usage_error("unknown option " + std::string(args[i]));
    }
  }
  if (help)
    o.action = CliOptions::Action::kHelp;
  else if (version)
    o.action = CliOptions::Action::kVersion;
  else if (check && print)
    return usage_error("--check-config and --print-config are separate actions");
  else if (check)
    o.action = CliOptions::Action::kCheckConfig;
  else if (print)
    o.action = CliOptions::Action::kPrintConfig;
  else if (!o.healthcheck_url.empty())
    o.action = CliOptions::Action::kHealthcheck;
  CliResult r;
  r.options = std::move(o);
  return r;
}

CliResult parse_cli(int argc, char** argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_cli(std::span<const std::string_view>(args));
}

std::string usage_text() {
  return "usage: wsrelay [--config PATH] [--listen HOST:PORT] [--metrics-listen HOST:PORT] "
         "[--check-config [PATH]]\n"
         "       wsrelay --print-config [PATH] [--listen HOST:PORT] [--metrics-listen HOST:PORT]\n"
         "       wsrelay --healthcheck URL | --version | --help\n"
         "       wsrelay gen-key\n"
         "       wsrelay gen-token [--config PATH] [--kid K] --sub USER [--subscribe PATTERN]...\n"
         "                         [--publish PATTERN]... [--ttl 1h]\n"
         "\n"
         "  --config PATH              JSON config file (default: built-in defaults, no file)\n"
         "  --listen HOST:PORT         public listener, overrides \"listen\" ([V6]:PORT for IPv6)\n"
         "  --metrics-listen HOST:PORT metrics listener, overrides \"metrics_listen\" (\"\" = "
         "off)\n"
         "  --check-config [PATH]      validate the config (PATH or --config) and exit: 0 if good, "
         "78 if not\n"
         "  --print-config [PATH]      print the effective config (every key, defaults filled "
         "in,\n"
         "                             overrides applied) as JSON and exit\n"
         "  --healthcheck URL          GET an http:// URL (e.g. .../healthz): exit 0 on 200, else "
         "1\n"
         "  --version                  print the version and exit\n"
         "  --help                     print this help and exit\n"
         "  gen-key                    print a fresh random secret (an HS256 key) and exit\n"
         "  gen-token                  print a token signed with the config's key (--kid, else\n"
         "                             the first) for USER, granting the channel patterns\n"
         "\n"
         "Environment: WSRELAY_LISTEN and WSRELAY_METRICS_LISTEN override the file's listen\n"
         "addresses (the options above override both).\n"
         "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config file.\n";
}

std::string version_text() { return std::string("wsrelay ") + WSRELAY_VERSION; }

void apply_overrides(Config& c, const CliOptions& o) {
  // Containers set addresses through the environment; explicit options win over it.
  if (const char* e = std::getenv("WSRELAY_LISTEN"); e && *e) c.listen = e;
  if (const char* e = std::getenv("WSRELAY_METRICS_LISTEN")) c.metrics_listen = e;
  if (o.listen) c.listen = *o.listen;
  if (o.metrics_listen) c.metrics_listen = *o.metrics_listen;
}

ConfigResult load_overridden_config(const CliOptions& o) {
  ConfigResult r = load_config(o.config_path);
  if (r) apply_overrides(*r.config, o);
  return r;
}

ConfigResult load_effective_config(const CliOptions& o) {
  ConfigResult r = load_overridden_config(o);
  if (!r) return r;
  if (std::vector<ConfigError> errors = config_semantic_errors(*r.config); !errors.empty()) {
    ConfigResult bad;
    bad.error = errors.front();
    bad.errors = std::move(errors);
    return bad;
  }
  return r;
}

}  // namespace relay::daemon
