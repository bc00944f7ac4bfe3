// SimReport: renders a SimResult for people (a text table, at most 120 columns) and for programs (one JSON object,
// through core/json.h). It formats what the simulation computed; it never computes a number of its own beyond
// unit conversions, and it never does I/O.
#pragma once

#include <string>

#include "advise/sim/scenario.h"
#include "advise/sim/simulation.h"

namespace tollway::sim {

std::string render_text(const Scenario& scenario, const SimResult& result);
std::string render_json(const Scenario& scenario, const SimResult& result);

}  // namespace tollway::sim
