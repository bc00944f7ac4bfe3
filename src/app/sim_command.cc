// `tollway sim`: reads a scenario file, runs the simulator (advise/sim/simulation.h) and prints its table or JSON.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "advise/sim/report.h"
#include "advise/sim/scenario_loader.h"
#include "advise/sim/simulation.h"
#include "app/commands.h"

namespace tollway::app {

void add_sim_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("sim", "Simulate agent graphs: latency tax per topology, leased overspend, "
                                        "control-plane load and sidecar resource tax");
  cmd->footer(
      "Reads SCENARIO.yaml (an agent graph — explicit agents and their calls, or generated from a fan-out\n"
      "distribution and a depth — its load, per-hop costs, budget and resources; examples/sim/) and prints:\n"
      "  latency per task for direct, gateway, sidecar and hybrid on the same sampled tasks (end to end, added\n"
      "    over direct, and the tax: tollway passes on the critical path), by Monte Carlo over\n"
      "    load.latency_samples tasks;\n"
      "  with a leased budget (budget.limit above 0), the fleet's leases simulated event by event (each node\n"
      "    reports once per sync interval plus the report's latency): tokens served, overspend against the bound\n"
      "    B = R + K + U + S, control-plane reports/s; with a strict one, its fixed Redis cost per request;\n"
      "  the sidecars' CPU and memory against the workload's own, in closed form.\n"
      "Per-hop costs and sidecar resources default to this project's measurements or are derived from them\n"
      "(docs/benchmarks.md; src/advise/sim/hop_costs.cc says which); the model, its defaults and its validation\n"
      "against `tollway demo` are in docs/decision.md (\"## sim\"). A seed fixes every number: the same scenario\n"
      "and seed print the same result (the table's last line, the simulator's own time, aside). Exit code 1 when\n"
      "the scenario cannot be read or is invalid (every error is listed with its file:line and key path).");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto seed = std::make_shared<int64_t>(-1);
  cmd->add_option("SCENARIO", *file, "The scenario (YAML)")->required();
  cmd->add_flag("--json", *json, "Print one JSON object instead of the table");
  cmd->add_option("--seed", *seed, "Override the scenario's seed (0 or more)")->check(CLI::NonNegativeNumber);
  cmd->callback([=, &exit_code] {
    std::ifstream in(*file);
    if (!in) {
      std::cerr << "tollway sim: cannot read " << *file << "\n";
      exit_code = 1;
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    sim::ScenarioLoad load = sim::load_scenario(text.str(), *file);
    if (!load.scenario) {
      for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
      exit_code = 1;
      return;
    }
    sim::Scenario& scenario = *load.scenario;
    if (*seed >= 0) scenario.seed = static_cast<uint64_t>(*seed);
    const auto started = std::chrono::steady_clock::now();
    const sim::SimResult result = sim::simulate(scenario);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (*json) {
      std::cout << sim::render_json(scenario, result) << "\n";
    } else {
      std::cout << sim::render_text(scenario, result);
      std::printf("simulated in %.2f s on one core\n", seconds);
    }
    exit_code = 0;
  });
}

}  // namespace tollway::app
