// `tollway demo`: the whole hybrid on one machine (demo/demo_run.h), until Ctrl-C or --duration.
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "core/units.h"
#include "demo/demo_run.h"

namespace tollway::app {

void add_demo_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("demo", "Run the whole hybrid on this machine: a control plane, a gateway, three agents with sidecars");
  cmd->footer(
      "Starts on 127.0.0.1 and free ports: a mock OpenAI-compatible provider and three small built-in agents (an\n"
      "orchestrator that fans out to a retrieval agent and a tool agent, all of which call the LLM), Redis when\n"
      "redis-server is installed (the gateway's strict ledger), a control plane with a demo policy and its CA, a\n"
      "gateway and a sidecar per agent (each joins with a one-time token and holds its own SPIFFE certificate).\n"
      "Then it runs a scripted workload, prints tokens and cost per tenant and agent (checked against the\n"
      "provider's log), budgets left, denials by reason and one request's trace with per-hop latency, and the\n"
      "dashboard's URL. It runs until Ctrl-C (or --duration), then stops every process it started.\n"
      "Logs, the policy, state and summary.json are in the work directory (kept with --work-dir).");
  auto duration = std::make_shared<std::string>();
  auto work_dir = std::make_shared<std::string>();
  auto tasks = std::make_shared<int>(40);
  auto mesh_budget = std::make_shared<int64_t>(demo::kMeshDailyTokens);
  auto mesh_on_exhausted = std::make_shared<std::string>("wait");
  cmd->add_option("--duration", *duration, "Stop this long after the start (e.g. 20s, 5m); default: run until Ctrl-C");
  cmd->add_option("--work-dir", *work_dir, "An empty directory for the logs, policy, state and summary.json (kept); "
                                           "default: a temporary one, removed at exit");
  cmd->add_option("--tasks", *tasks, "Tasks in the scripted workload (1 to 10000; default 40)")
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--mesh-budget", *mesh_budget,
                  "The leased budget mesh-llm-tokens the three sidecars share, in tokens a day (1 to 1000000000; "
                  "default 200000, which the workload never exhausts: a small one, e.g. 2000, runs out under load)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
  cmd->add_option("--mesh-on-exhausted", *mesh_on_exhausted,
                  "That budget's on_lease_exhausted: wait (default: wait up to two sync intervals for more, then "
                  "429), deny (429 at once) or allow (admit beyond the lease: overspend, term U of the bound)")
      ->check(CLI::IsMember({"wait", "deny", "allow"}));
  cmd->callback([=, &exit_code] {
    demo::DemoOptions options;
    options.work_dir = *work_dir;
    options.tasks = *tasks;
    options.mesh_budget = *mesh_budget;
    options.mesh_on_exhausted = *mesh_on_exhausted;
    if (!duration->empty()) {
      const auto d = units::parse_duration(*duration);
      if (!d || d->count() <= 0) {
        std::cerr << "--duration: \"" << *duration << "\" is not a duration (e.g. 20s, 5m)\n";
        exit_code = 1;
        return;
      }
      options.duration = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
    std::error_code ec;
    options.program = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) {
      std::cerr << "tollway demo: cannot find its own binary: " << ec.message() << "\n";
      exit_code = 1;
      return;
    }
    exit_code = demo::run_demo(options, std::cout, std::cerr);
  });
}

}  // namespace tollway::app
