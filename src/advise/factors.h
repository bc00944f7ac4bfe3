// Factors: the seed's five decision factors scored for one team — each factor's answer (from the questionnaire,
// or for traffic topology from the fleet's measured share when the questionnaire is silent), which way it leans
// (gateway, sidecar, both layers, or unanswered), its priority, and the seed's statement the rule comes from,
// quoted so a reader can check it. Pure and deterministic: no I/O; it never turns a missing answer into a lean.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "advise/fleet_measurement.h"
#include "advise/questionnaire.h"

namespace tollway::advise {

enum class Lean { Gateway, Sidecar, Both, Unanswered };
std::string_view name_of(Lean lean);  // gateway, sidecar, both, unanswered

// Measured east-west share of calls at or above this is "mostly east-west", at or below kNorthSouthShare "mostly
// north-south", between "mixed" (the seed says "mostly"; two thirds is our reading of it).
inline constexpr double kEastWestShare = 2.0 / 3.0;
inline constexpr double kNorthSouthShare = 1.0 / 3.0;
// The seed's line between a small team and a large one ("Small team (under 10 engineers)").
inline constexpr int kSmallTeam = 10;

struct FactorScore {
  Factor factor = Factor::Topology;
  Priority priority = Priority::Medium;
  std::string answer;        // what the team said or the fleet showed, in words
  bool measured = false;     // the answer comes from the fleet, not the questionnaire
  Lean lean = Lean::Unanswered;
  std::string_view rule;     // the rule in our words
  std::string_view seed;     // the seed's sentence it comes from
};

// The traffic a measured east-west share amounts to (see kEastWestShare).
Traffic traffic_of_share(double east_west_share);

// A share as whole percent ("48%"), as the answers and disagreements write it.
std::string percent(double share);

// The five factors in the seed's order.
std::vector<FactorScore> score_factors(const Questionnaire& q, const FleetMeasurement* measured);

}  // namespace tollway::advise
