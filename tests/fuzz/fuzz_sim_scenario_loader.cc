// libFuzzer target for `tollway sim`'s scenario loader (advise/sim/scenario_loader.h), which reads a YAML file a
// user hands the command. Invariants: loading never throws or crashes; it gives a scenario or errors, never both
// and never neither; every error names a non-empty message and a line within the text; a loaded scenario is one
// the simulator can run (a root and every call's callee within the roles, shares within [0, 1], a positive
// duration and sample count); loading the same text again gives the same outcome.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "advise/sim/scenario_loader.h"
#include "fuzz_check.h"

namespace {

namespace sim = tollway::sim;

bool share(double v) { return v >= 0 && v <= 1; }

void check_scenario(const sim::Scenario& s) {
  const auto roles = static_cast<int>(s.graph.roles.size());
  const auto llm_calls = static_cast<int>(s.graph.llm_calls.size());
  FUZZ_CHECK(roles > 0 && s.graph.root >= 0 && s.graph.root < roles);
  FUZZ_CHECK(s.duration_s > 0 && s.latency_samples > 0);
  FUZZ_CHECK(share(s.north_south_share) && share(s.budget.lost_at_spent));
  for (const sim::Role& role : s.graph.roles) {
    FUZZ_CHECK(role.replicas >= 1);
    for (const sim::Step& step : role.steps)
      for (const sim::Call& call : step.calls) {
        FUZZ_CHECK(share(call.probability) && share(call.deny));
        if (call.kind == sim::Call::Kind::Agent) FUZZ_CHECK(call.target >= 0 && call.target < roles);
        else FUZZ_CHECK(call.llm >= 0 && call.llm < llm_calls);
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  const sim::ScenarioLoad load = sim::load_scenario(text, "fuzz.yaml");
  FUZZ_CHECK(load.scenario.has_value() != !load.errors.empty());
  for (const sim::ScenarioError& e : load.errors) {
    FUZZ_CHECK(!e.message.empty() && e.file == "fuzz.yaml");
    FUZZ_CHECK(e.line >= 0 && e.line <= lines + 1);
  }
  if (load.scenario) check_scenario(*load.scenario);
  const sim::ScenarioLoad again = sim::load_scenario(text, "fuzz.yaml");
  FUZZ_CHECK(again.scenario.has_value() == load.scenario.has_value() && again.errors.size() == load.errors.size());
  return 0;
}
