// Advice: `tollway advise`'s answer — the five factors scored (factors.h), their weighted tally, a recommendation
// per traffic class (north-south LLM calls, east-west agent-to-agent calls, tool/MCP calls) with the reason and
// the seed's layer it follows, and the lines where the fleet's measurement contradicts what the questionnaire
// says. Pure: no I/O; the same inputs give the same advice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "advise/factors.h"
#include "advise/fleet_measurement.h"
#include "advise/questionnaire.h"

namespace tollway::advise {

enum class TrafficClass { NorthSouth, EastWest, Tool };
std::string_view name_of(TrafficClass c);  // north_south, east_west, tool

struct ClassAdvice {
  TrafficClass traffic_class = TrafficClass::NorthSouth;
  Lean advice = Lean::Gateway;  // never Unanswered
  std::string why;
};

// Sidecar-overhead share of compute above which the seed's figure is exceeded ("15 to 25 percent").
inline constexpr double kSidecarTaxHigh = 0.25;

struct Advice {
  Questionnaire questionnaire;
  std::vector<FactorScore> factors;
  int gateway_points = 0;  // Σ priority weight (High 3, Medium 2, Low 1) of factors leaning to the gateway
  int sidecar_points = 0;  // ... to sidecars ("both" counts for neither)
  std::vector<ClassAdvice> classes;
  std::vector<std::string> disagreements;  // measurement vs questionnaire, one line each
  std::optional<FleetMeasurement> measured;
  std::string source;  // where the measurement came from (the control plane's URL), "" without one
};

Advice advise(const Questionnaire& q, std::optional<FleetMeasurement> measured, std::string source = {});

// The agents' processes are not tollway's: their share is computable only from what the questionnaire says they
// use. Σ sidecar CPU cores / (Σ sidecar cores + workload cores); nullopt without either.
std::optional<double> sidecar_cpu_share(const FleetMeasurement& m, const Questionnaire& q);

}  // namespace tollway::advise
