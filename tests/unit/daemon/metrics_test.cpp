// SPDX-License-Identifier: MIT
// daemon/metrics: Stats copied into prometheus-cpp families with the names, types and labels
// README.md lists, counters advanced by deltas, our own histogram buckets, and the text
// checked by `promtool check metrics` (Debian's prometheus package, which the test command
// installs: a missing promtool fails the test).
#include "metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "run_binary.h"

namespace relay::daemon {
namespace {

// The value of the sample whose line starts with `series` ("name{labels}" or "name").
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

struct ReadmeMetric {
  std::string name;
  std::string type;
  std::set<std::string> labels;
};

// Rows of the README "## Metrics" table: | `name{label}` | type | meaning |
std::vector<ReadmeMetric> readme_metrics() {
  std::ifstream in(std::string(RELAY_SOURCE_DIR) + "/README.md");
  std::vector<ReadmeMetric> out;
  bool in_section = false;
  const std::regex row(R"(^\| `([a-z_]+)(\{([a-z_,]+)\})?` \| ([a-z]+) \|)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Metrics";
    std::smatch m;
    if (!in_section || !std::regex_search(line, m, row)) continue;
    ReadmeMetric r{m[1], m[4], {}};
    std::stringstream labels(m[3]);
    for (std::string l; std::getline(labels, l, ',');) r.labels.insert(l);
    out.push_back(r);
  }
  return out;
}

Stats busy_stats() {
  Stats s;
  s.connections = 3;
  s.accepted_total = 10;
  s.closed_by_code[1000] = 4;
  s.closed_by_code[4008] = 1;
  s.handshake_failures_by_status[403] = 2;
  s.messages_received = 7;
  s.bytes_received = 700;
  s.published_ws = 6;
  s.published_http = 1;
  s.messages_delivered = 20;
  s.bytes_delivered = 2000;
  s.slow_consumer_closes = 1;
  s.compression_bytes_in = 5000;
  s.compression_bytes_out = 900;
  s.count_refused(RefusedCause::kFdLimit);
  s.channels = 2;
  s.reloads_ok = 1;
  s.queued_bytes = 4096;
  s.queue_evictions = 3;
  s.publisher_pushbacks = 2;
  s.observe_latency(0.000005);  // first bucket (le=1e-05)
  s.observe_latency(0.0003);    // le=0.0005
  s.observe_latency(1.0);       // only +Inf
  return s;
}

TEST(Metrics, FreshRegistryHasEveryReadmeFamily) {
  Metrics m;
  m.update(Stats{});
  const std::string text = m.serialize();
  const auto families = readme_metrics();
  // Every metric the README lists exists (at least the 21 of this writing: a broken parse
  // of the README table would find none).
  ASSERT_GE(families.size(), 21u) << "README Metrics table changed?";
  for (const auto& f : families) {
    SCOPED_TRACE(f.name);
    EXPECT_NE(text.find("# TYPE " + f.name + " " + f.type + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# HELP " + f.name + " "), std::string::npos);
  }
  EXPECT_EQ(sample(text, "wsrelay_connections"), 0.0);
  EXPECT_EQ(sample(text, R"(wsrelay_messages_published_total{source="ws"})"), 0.0);
  EXPECT_EQ(sample(text, R"(wsrelay_messages_published_total{source="http"})"), 0.0);
  EXPECT_EQ(sample(text, R"(wsrelay_config_reloads_total{result="error"})"), 0.0);
  EXPECT_EQ(sample(text, "wsrelay_publish_to_write_seconds_count"), 0.0);
}

TEST(Metrics, BuildInfoAndProcessMetrics) {
  Metrics m;
  const std::string text = m.serialize();
  EXPECT_EQ(sample(text, std::string("wsrelay_build_info{version=\"") + WSRELAY_VERSION + "\"}"),
            1.0)
      << text;
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 1e6);  // ASan alone
  EXPECT_GE(sample(text, "process_virtual_memory_bytes").value_or(0),
            sample(text, "process_resident_memory_bytes").value_or(1e300));
  EXPECT_GE(sample(text, "process_open_fds").value_or(0), 3.0);  // stdin, stdout, stderr
  EXPECT_GE(sample(text, "process_max_fds").value_or(0),
            sample(text, "process_open_fds").value_or(1e300));
  EXPECT_GE(sample(text, "process_cpu_seconds_total").value_or(-1), 0.0);
  // Started within the last day, and not in the future (minutes of slack for the clock).
  const double now = static_cast<double>(::time(nullptr));
  const double start = sample(text, "process_start_time_seconds").value_or(0);
  EXPECT_LE(start, now + 120);
  EXPECT_GT(start, now - 86400);

  // Each scrape reads /proc again: a new descriptor shows up.
  const double before = sample(m.serialize(), "process_open_fds").value_or(0);
  const int fd = ::dup(0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(sample(m.serialize(), "process_open_fds"), before + 1);
  ::close(fd);
}

TEST(Metrics, ProcStatFieldsAfterTheLastParenthesis) {
  // A command name with ") " in it must not shift the fields (proc(5)).
  const std::string line =
      "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 1 0 12345 987654321 "
      "2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  const std::optional<ProcStat> s = parse_proc_stat(line, 100);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);  // (250 + 150) / 100
  EXPECT_DOUBLE_EQ(s->start_ticks, 12345);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 987654321);
  EXPECT_DOUBLE_EQ(s->resident_pages, 2048);
  EXPECT_FALSE(parse_proc_stat("42 (a) S 1 2", 100).has_value());
  EXPECT_FALSE(parse_proc_stat("no parenthesis", 100).has_value());
}

TEST(Metrics, CloseCodeLabelsAreBounded) {
  for (uint16_t code : {1000, 1001, 1006, 1008, 1011, 1015, 4001, 4003, 4004, 4008, 4009})
    EXPECT_EQ(Metrics::close_code_label(code), std::to_string(code));
  EXPECT_EQ(Metrics::close_code_label(1004), "other");
  EXPECT_EQ(Metrics::close_code_label(1016), "other");
  EXPECT_EQ(Metrics::close_code_label(2999), "other");
  EXPECT_EQ(Metrics::close_code_label(0), "other");
  EXPECT_EQ(Metrics::close_code_label(3000), "3xxx");
  EXPECT_EQ(Metrics::close_code_label(3999), "3xxx");
  EXPECT_EQ(Metrics::close_code_label(4000), "4xxx");
  EXPECT_EQ(Metrics::close_code_label(4999), "4xxx");
  EXPECT_EQ(Metrics::close_code_label(5000), "other");

  // 2,000 distinct client codes make at most three new series.
  Metrics m;
  Stats s;
  for (uint16_t code = 3000; code < 5000; ++code) s.closed_by_code[code] = 1;
  m.update(s);
  const std::string text = m.serialize();
  EXPECT_EQ(sample(text, R"(wsrelay_connections_closed_total{code="3xxx"})"), 1000.0);
  EXPECT_EQ(sample(text, R"(wsrelay_connections_closed_total{code="4xxx"})"), 995.0);
  EXPECT_EQ(sample(text, R"(wsrelay_connections_closed_total{code="4008"})"), 1.0);
  EXPECT_EQ(sample(text, R"(wsrelay_connections_closed_total{code="4009"})"), 1.0);
  size_t series = 0;
  for (size_t at = text.find("wsrelay_connections_closed_total{"); at != std::string::npos;
       at = text.find("wsrelay_connections_closed_total{", at + 1))
    ++series;
  EXPECT_LE(series, 14u) << text;  // 12 pre-created (README's codes) + 3xxx + 4xxx
}

TEST(Metrics, NoFamilyBeyondTheReadme) {
  Metrics m;
  m.update(busy_stats());
  std::set<std::string> documented;
  for (const auto& f : readme_metrics()) documented.insert(f.name);
  std::istringstream in(m.serialize());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_TRUE(documented.count(name)) << name << " is not in README.md";
  }
}

TEST(Metrics, LabelsAreTheDocumentedOnes) {
  Metrics m;
  m.update(busy_stats());
  const std::string text = m.serialize();
  for (const auto& f : readme_metrics()) {
    SCOPED_TRACE(f.name);
    // Every sample line of this family carries exactly the documented labels (plus le).
    std::istringstream in(text);
    int samples = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#' || line.rfind(f.name, 0) != 0) continue;
      const std::string series = line.substr(0, line.find(' '));
      std::string base = series.substr(0, series.find('{'));
      if (f.type == "histogram") {
        for (const char* suffix : {"_bucket", "_sum", "_count"})
          if (base == f.name + suffix) base = f.name;
      }
      if (base != f.name) continue;  // a longer name sharing the prefix
      ++samples;
      std::set<std::string> labels;
      const std::regex label(R"(([a-z_]+)=")");
      for (std::sregex_iterator it(series.begin(), series.end(), label), end; it != end; ++it)
        if ((*it)[1] != "le") labels.insert((*it)[1]);
      EXPECT_EQ(labels, f.labels) << line;
    }
    EXPECT_GT(samples, 0);
  }
}

TEST(Metrics, UpdateCopiesTheStats) {
  Metrics m;
  m.update(busy_stats());
  const std::string t = m.serialize();
  EXPECT_EQ(sample(t, "wsrelay_connections"), 3.0);
  EXPECT_EQ(sample(t, "wsrelay_connections_accepted_total"), 10.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_closed_total{code="1000"})"), 4.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_closed_total{code="4008"})"), 1.0);
  EXPECT_EQ(sample(t, R"(wsrelay_handshake_failures_total{status="403"})"), 2.0);
  EXPECT_EQ(sample(t, "wsrelay_messages_received_total"), 7.0);
  EXPECT_EQ(sample(t, "wsrelay_bytes_received_total"), 700.0);
  EXPECT_EQ(sample(t, R"(wsrelay_messages_published_total{source="ws"})"), 6.0);
  EXPECT_EQ(sample(t, R"(wsrelay_messages_published_total{source="http"})"), 1.0);
  EXPECT_EQ(sample(t, "wsrelay_messages_delivered_total"), 20.0);
  EXPECT_EQ(sample(t, "wsrelay_bytes_delivered_total"), 2000.0);
  EXPECT_EQ(sample(t, "wsrelay_slow_consumer_closes_total"), 1.0);
  EXPECT_EQ(sample(t, "wsrelay_compression_bytes_in_total"), 5000.0);
  EXPECT_EQ(sample(t, "wsrelay_compression_bytes_out_total"), 900.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_refused_total{cause="fd_limit"})"), 1.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_refused_total{cause="per_ip"})"), 0.0);
  EXPECT_EQ(sample(t, "wsrelay_channels"), 2.0);
  EXPECT_EQ(sample(t, "wsrelay_queued_bytes"), 4096.0);
  EXPECT_EQ(sample(t, "wsrelay_queue_evictions_total"), 3.0);
  EXPECT_EQ(sample(t, "wsrelay_publisher_pushbacks_total"), 2.0);
  EXPECT_EQ(sample(t, R"(wsrelay_config_reloads_total{result="ok"})"), 1.0);
  EXPECT_EQ(sample(t, R"(wsrelay_config_reloads_total{result="error"})"), 0.0);
  // Cumulative buckets from our own counts.
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="1e-05"})"), 1.0);
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="0.00025"})"), 1.0);
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="0.0005"})"), 2.0);
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="0.25"})"), 2.0);
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="+Inf"})"), 3.0);
  EXPECT_EQ(sample(t, "wsrelay_publish_to_write_seconds_count"), 3.0);
  EXPECT_NEAR(*sample(t, "wsrelay_publish_to_write_seconds_sum"), 1.000305, 1e-9);
}

// Stats hold running totals; a second update must not add them twice.
TEST(Metrics, RepeatedUpdatesAddOnlyTheDifference) {
  Metrics m;
  Stats s = busy_stats();
  m.update(s);
  m.update(s);  // nothing changed
  s.accepted_total += 5;
  s.closed_by_code[1000] += 1;
  s.closed_by_code[1006] = 2;  // a new label value
  s.connections = 1;
  s.observe_latency(0.002);
  m.update(s);
  const std::string t = m.serialize();
  EXPECT_EQ(sample(t, "wsrelay_connections_accepted_total"), 15.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_closed_total{code="1000"})"), 5.0);
  EXPECT_EQ(sample(t, R"(wsrelay_connections_closed_total{code="1006"})"), 2.0);
  EXPECT_EQ(sample(t, "wsrelay_connections"), 1.0);
  EXPECT_EQ(sample(t, "wsrelay_messages_delivered_total"), 20.0);
  EXPECT_EQ(sample(t, "wsrelay_publish_to_write_seconds_count"), 4.0);
  EXPECT_EQ(sample(t, R"(wsrelay_publish_to_write_seconds_bucket{le="0.0025"})"), 3.0);
  EXPECT_NEAR(*sample(t, "wsrelay_publish_to_write_seconds_sum"), 1.002305, 1e-9);
}

TEST(Metrics, PromtoolAcceptsTheText) {
  ASSERT_EQ(access("/usr/bin/promtool", X_OK), 0)
      << "/usr/bin/promtool missing: bash deploy/dev/install-deps.sh --test installs prometheus";
  Metrics m;
  m.update(busy_stats());
  testing::TempDir dir;
  const std::string file = dir.write("metrics.txt", m.serialize());
  const auto r =
      testing::run_program("/bin/sh", {"-c", "/usr/bin/promtool check metrics < " + file});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "promtool lint findings";
}

}  // namespace
}  // namespace relay::daemon
