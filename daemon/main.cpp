// SPDX-License-Identifier: MIT
// wsrelay: parse the command line, load and check the config (exit 78 before binding anything
// if it is bad), set up logging, then hand over to the server's event loop(s) (workers.h).
#include <cstdio>
#include <exception>
#include <utility>

#include "cli.h"
#include "config.h"
#include "config_print.h"
#include "healthcheck.h"
#include "logging.h"
#include "server.h"
#include "token_commands.h"
#include "workers.h"

namespace {

constexpr int kExitSoftware = 70;  // sysexits.h EX_SOFTWARE: an internal error

// One line per problem, each naming its JSON pointer; exit 78 (before binding anything).
int print_config_errors(const relay::daemon::ConfigResult& r) {
  if (r.errors.empty()) std::fprintf(stderr, "wsrelay: %s\n", r.error.to_string().c_str());
  for (const auto& e : r.errors) std::fprintf(stderr, "wsrelay: %s\n", e.to_string().c_str());
  return relay::daemon::kExitConfig;
}

int run(int argc, char** argv) {
  using relay::daemon::CliOptions;
  namespace d = relay::daemon;

  const d::CliResult cli = d::parse_cli(argc, argv);
  if (!cli) {
    std::fprintf(stderr, "wsrelay: %s\n%s", cli.error.c_str(), d::usage_text().c_str());
    return d::kExitUsage;
  }
  const CliOptions& opts = *cli.options;
  if (opts.action == CliOptions::Action::kHelp) {
    std::fputs(d::usage_text().c_str(), stdout);
    return 0;
  }
  if (opts.action == CliOptions::Action::kVersion) {
    std::printf("%s\n", d::version_text().c_str());
    return 0;
  }

  if (opts.action == CliOptions::Action::kGenKey) return d::run_gen_key();
  if (opts.action == CliOptions::Action::kGenToken) return d::run_gen_token(opts);

  if (opts.action == CliOptions::Action::kHealthcheck)
    return d::run_healthcheck(opts.healthcheck_url);

  if (opts.action == CliOptions::Action::kPrintConfig) {
    const d::ConfigResult loaded = d::load_overridden_config(opts);
    if (!loaded) return print_config_errors(loaded);
    std::fputs(d::config_to_json(*loaded.config).c_str(), stdout);
    return 0;
  }

  d::ConfigResult loaded = d::load_effective_config(opts);
  if (!loaded) return print_config_errors(loaded);
  if (opts.action == CliOptions::Action::kCheckConfig) {
    const std::string& src = loaded.config->source_path;
    std::printf("wsrelay: config ok (%s)\n", src.empty() ? "built-in defaults" : src.c_str());
    return 0;
  }

  d::init_logging(loaded.config->log_level);
  // SIGHUP: the same file and the same overrides as at start-up.
  d::ConfigReloader reloader = [opts]() { return d::load_effective_config(opts); };
  return d::run_workers(std::move(*loaded.config), std::move(reloader));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wsrelay: fatal: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "wsrelay: fatal: unknown exception\n");
  }
  return kExitSoftware;
}
