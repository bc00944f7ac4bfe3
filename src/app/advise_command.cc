// `tollway advise`: the seed's gateway-vs-sidecar decision framework (docs/decision.md) — the five factors scored
// from a questionnaire (a YAML file and/or flags), a recommendation per traffic class, and with --control the
// running fleet's measurement from its control plane's API beside it, with every line where the two disagree.
// Prints a one-screen table, or --json.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "advise/advice.h"
#include "advise/advice_report.h"
#include "advise/fleet_fetch.h"
#include "app/commands.h"
#include "app/token_file.h"
#include "tls/client_context.h"

namespace tollway::app {
namespace {

struct AdviseOptions {
  std::string questionnaire_file;
  std::string traffic, sre, compliance, limits, observability;
  int team_size = 0;
  std::vector<std::string> priorities;
  double workload_cpu_cores = 0, workload_memory_mib = 0;
  std::string control, admin_token_file, ca_file;
  int trace_limit = 200;
  bool json = false;
};

template <typename E>
bool set_word(const std::string& text, const char* flag, std::optional<E> (*parse)(std::string_view),
              std::string_view allowed, std::optional<E>& out) {
  if (text.empty()) return true;
  if (auto v = parse(text)) {
    out = *v;
    return true;
  }
  std::cerr << "tollway advise: " << flag << " \"" << text << "\" is not one of: " << allowed << "\n";
  return false;
}

// The file (when given), then the flags over it.
std::optional<advise::Questionnaire> read_questionnaire(const AdviseOptions& o) {
  advise::Questionnaire q;
  if (!o.questionnaire_file.empty()) {
    std::ifstream in(o.questionnaire_file);
    if (!in) {
      std::cerr << "tollway advise: cannot read " << o.questionnaire_file << "\n";
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto result = advise::parse_questionnaire(text.str(), o.questionnaire_file);
    if (!result.errors.empty()) {
      for (const auto& e : result.errors) std::cerr << e.to_string() << "\n";
      return std::nullopt;
    }
    q = std::move(result.questionnaire);
  }
  if (!set_word(o.traffic, "--traffic", advise::parse_traffic, advise::kTrafficWords, q.traffic) ||
      !set_word(o.sre, "--sre", advise::parse_sre, advise::kSreWords, q.sre) ||
      !set_word(o.compliance, "--compliance", advise::parse_compliance, advise::kComplianceWords, q.compliance) ||
      !set_word(o.limits, "--limits", advise::parse_limits, advise::kLimitsWords, q.limits) ||
      !set_word(o.observability, "--observability", advise::parse_observability, advise::kObservabilityWords,
                q.observability))
    return std::nullopt;
  if (o.team_size > 0) q.team_size = o.team_size;
  for (const auto& p : o.priorities) {
    std::string error;
    if (!advise::set_priority(q, p, error)) {
      std::cerr << "tollway advise: " << error << "\n";
      return std::nullopt;
    }
  }
  if (o.workload_cpu_cores > 0) q.workload_cpu_cores = o.workload_cpu_cores;
  if (o.workload_memory_mib > 0) q.workload_memory_mib = o.workload_memory_mib;
  return q;
}

std::optional<advise::FleetMeasurement> measure(const AdviseOptions& o) {
  advise::ControlAccess access;
  access.url = o.control;
  access.trace_limit = o.trace_limit;
  access.admin_token = read_token_file(o.admin_token_file);
  if (access.admin_token.empty()) {
    std::cerr << "tollway advise: --admin-token-file " << o.admin_token_file << " is unreadable or empty\n";
    return std::nullopt;
  }
  if (!o.ca_file.empty()) {
    std::optional<tls::ClientTlsError> error;
    access.tls = tls::make_client_context({o.ca_file, "", ""}, error);
    if (!access.tls) {
      std::cerr << "tollway advise: --ca-file: " << error->message << "\n";
      return std::nullopt;
    }
  }
  boost::asio::io_context io;
  auto answers = boost::asio::co_spawn(io, advise::fetch_api_answers(access), boost::asio::use_future);
  io.run();
  advise::ApiAnswers fetched = answers.get();
  if (!fetched.fleet && !fetched.trace_list) {
    std::cerr << "tollway advise: the control plane at " << o.control << " did not answer: "
              << (fetched.gaps.empty() ? std::string("no answer") : fetched.gaps.front()) << "\n";
    return std::nullopt;
  }
  return advise::measure_fleet(fetched);
}

}  // namespace

void add_advise_command(CLI::App& cli, int& exit_code) {
  auto* cmd =
      cli.add_subcommand("advise", "Gateway, sidecar or both: the seed's five factors, scored for your team and fleet");
  cmd->footer(
      "Scores the five factors of the gateway-vs-sidecar decision (traffic topology, team size and SRE capacity,\n"
      "hard or soft limits, compliance, observability depth) from a questionnaire (--questionnaire FILE, YAML,\n"
      "and/or the flags, which override the file) and recommends gateway, sidecar or both for north-south LLM\n"
      "calls, east-west agent-to-agent calls and tool/MCP calls. With --control it also measures the running\n"
      "fleet from its control plane's API (admin token): call and token shares from the trace window, calls per\n"
      "trace, the latency tax of each path from tollway's own span time, orphaned traces, leased budgets against\n"
      "their limits, drift and NACKs, and each node's CPU and memory as it reports them; the agents' own\n"
      "processes are not tollway's and are not measured (say --workload-cpu-cores to compare). Where measurement\n"
      "and questionnaire disagree it says so. Rules and the seed's sentences: docs/decision.md.");
  auto o = std::make_shared<AdviseOptions>();
  cmd->add_option("--questionnaire", o->questionnaire_file,
                  "A YAML questionnaire: traffic, team_size, sre, compliance, limits, observability, "
                  "priorities: {FACTOR: LEVEL}, workload: {cpu_cores, memory_mib} (docs/decision.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--traffic", o->traffic, "Traffic topology: north-south, east-west or mixed");
  cmd->add_option("--team-size", o->team_size, "Engineers who build and run the system")->check(CLI::Range(1, 100000));
  cmd->add_option("--sre", o->sre, "SRE capacity: none, part-time or dedicated");
  cmd->add_option("--compliance", o->compliance, "Compliance regime: standard, soc2, hipaa, fedramp or pci");
  cmd->add_option("--limits", o->limits, "hard (zero overage) or soft (small overage acceptable)");
  cmd->add_option("--observability", o->observability,
                  "per-call (trace every agent-to-agent call) or dashboard (cost and performance overview)");
  cmd->add_option("--priority", o->priorities,
                  "FACTOR=high|medium|low (default medium), repeatable; FACTOR: topology, team, limits, compliance, "
                  "observability");
  cmd->add_option("--workload-cpu-cores", o->workload_cpu_cores,
                  "CPU cores the agents' own processes use (all replicas)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--workload-memory-mib", o->workload_memory_mib, "Memory the agents' own processes use, MiB")
      ->check(CLI::PositiveNumber);
  auto* control = cmd->add_option("--control", o->control, "A control plane's URL (https://HOST:PORT) to measure");
  cmd->add_option("--admin-token-file", o->admin_token_file,
                  "The control plane's admin token (required with --control)")
      ->needs(control);
  cmd->add_option("--ca-file", o->ca_file, "CA bundle for the control plane's certificate, checked by host name "
                                           "(default: the system store)")
      ->check(CLI::ExistingFile)->needs(control);
  cmd->add_option("--trace-limit", o->trace_limit,
                  "Newest traces to read from the trace window (1 to 1000; default 200)")
      ->check(CLI::Range(1, 1000))->needs(control);
  cmd->add_flag("--json", o->json, "Print JSON instead of the table");
  cmd->callback([o, &exit_code] {
    exit_code = 1;
    const auto q = read_questionnaire(*o);
    if (!q) return;
    if (!o->control.empty() && o->admin_token_file.empty()) {
      std::cerr << "tollway advise: --control needs --admin-token-file\n";
      return;
    }
    std::optional<advise::FleetMeasurement> measured;
    if (!o->control.empty() && !(measured = measure(*o))) return;
    const advise::Advice advice = advise::advise(*q, std::move(measured), o->control);
    std::cout << (o->json ? advise::advice_json(advice) + "\n" : advise::advice_text(advice));
    exit_code = 0;
  });
}

}  // namespace tollway::app
