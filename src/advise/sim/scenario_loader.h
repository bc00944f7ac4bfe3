// Scenario loading: reads a `tollway sim` scenario from YAML text into a Scenario, collecting every error with its
// file:line, key path and what is allowed (the config loader's style), so one run shows them all. Unknown keys are
// errors. Defaults for what the YAML leaves out come from hop_costs.h. It reads only the text it is given; it
// never opens files and never simulates.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "advise/sim/scenario.h"

namespace tollway::sim {

struct ScenarioError {
  std::string file;
  int line = 0;          // 1-based; 0 when not tied to a line
  std::string key_path;  // e.g. "graph.agents[1].steps[0].parallel[1].deny"
  std::string message;
  std::string to_string() const;  // "FILE:LINE: key.path: message"
};

struct ScenarioLoad {
  std::optional<Scenario> scenario;  // set when there is no error
  std::vector<ScenarioError> errors;
};

ScenarioLoad load_scenario(std::string_view yaml_text, const std::string& file);

// "56us", "3ms", "1.5s", "2m", "1h" -> µs; nullopt for anything else (a unit is required).
std::optional<double> parse_time_us(std::string_view text);

}  // namespace tollway::sim
