// Default per-pass costs and sidecar resources, taken from this project's own measurements in docs/benchmarks.md
// (each value below names its table). A scenario overrides any of them; nothing here is measured at run time.
#pragma once

#include "advise/sim/scenario.h"

namespace tollway::sim {

HopCosts default_hop_costs();
// CPU per request through one sidecar and its resident memory, as measured; reservations 0 (none set).
Resources default_resources();

}  // namespace tollway::sim
