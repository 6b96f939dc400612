// SPDX-License-Identifier: MIT
// The command line (README "Command line") and the config it selects: the file, then the
// --listen / --metrics-listen overrides, then the semantic checks. main() and the SIGHUP
// reloader both go through load_effective_config(), so a reload sees what start-up saw.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace relay::daemon {

// sysexits.h EX_USAGE: a bad command line.
constexpr int kExitUsage = 64;

// `wsrelay gen-token`: what the token grants (README "Securing wsrelay").
struct GenTokenOptions {
  std::string sub;
  std::vector<std::string> subscribe;  // --subscribe PATTERN, repeatable
  std::vector<std::string> publish;    // --publish PATTERN, repeatable
  int64_t ttl_s = 3600;                // --ttl 90s|15m|1h|7d
  std::string kid;                     // --kid K ("" = the first configured key)
};

struct CliOptions {
  enum class Action : uint8_t {
    kRun,
    kCheckConfig,
    kPrintConfig,
    kVersion,
    kHelp,
    kHealthcheck,
    kGenKey,    // wsrelay gen-key
    kGenToken,  // wsrelay gen-token ...
  };
  Action action = Action::kRun;
  std::string config_path;                    // "" = built-in defaults
  std::optional<std::string> listen;          // --listen HOST:PORT
  std::optional<std::string> metrics_listen;  // --metrics-listen HOST:PORT ("" = off)
  std::string healthcheck_url;                // --healthcheck URL (container HEALTHCHECK)
  GenTokenOptions token;                      // kGenToken
};

struct CliResult {
  std::optional<CliOptions> options;
  std::string error;  // set when options is empty: one line, without the "wsrelay: " prefix
  explicit operator bool() const { return options.has_value(); }
};

// Parses argv[1..] ("--opt VALUE" and "--opt=VALUE"). Help and version win over everything
// else; unknown options, missing values and malformed addresses are errors (exit kExitUsage).
CliResult parse_cli(std::span<const std::string_view> args);
CliResult parse_cli(int argc, char** argv);

// The usage text for --help (stdout) and after a usage error (stderr).
std::string usage_text();
// "wsrelay 0.1.0"
std::string version_text();

// Copies the command-line overrides into `c`.
void apply_overrides(Config& c, const CliOptions& o);
// load_config(o.config_path) + apply_overrides + check_config_semantics; on failure
// ConfigResult::errors holds every problem (schema errors, else the semantic ones).
ConfigResult load_effective_config(const CliOptions& o);
// load_config(o.config_path) + apply_overrides, without the semantic checks (--print-config
// shows what would be checked).
ConfigResult load_overridden_config(const CliOptions& o);

}  // namespace relay::daemon
