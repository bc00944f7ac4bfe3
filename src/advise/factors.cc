#include "advise/factors.h"

#include <cstdio>

namespace tollway::advise {
namespace {

FactorScore start(Factor f, const Questionnaire& q) {
  FactorScore s;
  s.factor = f;
  s.priority = q.priority(f);
  return s;
}

// Factor 1: traffic topology.
FactorScore topology(const Questionnaire& q, const FleetMeasurement* m) {
  FactorScore s = start(Factor::Topology, q);
  std::optional<Traffic> traffic = q.traffic;
  const auto share = m != nullptr ? m->east_west_share() : std::nullopt;
  if (traffic) {
    s.answer = std::string(name_of(*traffic));
  } else if (share) {
    traffic = traffic_of_share(*share);
    s.measured = true;
    s.answer = percent(*share) + " of calls east-west";
  }
  if (!traffic) {
    s.rule = "say --traffic, or measure a fleet with --control";
    return s;
  }
  switch (*traffic) {
    case Traffic::NorthSouth:
      s.lean = Lean::Gateway;
      s.rule = "mostly north-south: a gateway sees it all";
      s.seed = "Mostly north-south (external user to agent)? A centralized gateway is a natural fit.";
      break;
    case Traffic::EastWest:
      s.lean = Lean::Sidecar;
      s.rule = "mostly east-west: sidecars";
      s.seed = "Mostly east-west (agent to agent)? Sidecars win decisively.";
      break;
    case Traffic::Mixed:
      s.lean = Lean::Both;
      s.rule = "both kinds: each to its layer";
      s.seed = "north-south and east-west traffic in multi-agent systems have fundamentally different "
               "characteristics and genuinely benefit from different enforcement mechanisms.";
      break;
  }
  return s;
}

// Factor 2: team size and operational maturity.
FactorScore team(const Questionnaire& q) {
  FactorScore s = start(Factor::Team, q);
  if (!q.team_size && !q.sre) {
    s.rule = "say --team-size and --sre";
    return s;
  }
  if (q.team_size) s.answer = std::to_string(*q.team_size) + " engineers";
  if (q.sre) s.answer += std::string(s.answer.empty() ? "" : ", ") + "SRE " + std::string(name_of(*q.sre));
  const bool small = q.team_size && *q.team_size < kSmallTeam;
  if (small || (q.sre && *q.sre == Sre::None)) {
    s.lean = Lean::Gateway;
    s.rule = small ? "under 10 engineers: one gateway" : "no SRE capacity: one gateway";
    s.seed = "Small team (under 10 engineers), early-stage system: A centralized gateway is dramatically simpler "
             "to operate.";
  } else if (q.team_size && q.sre == Sre::Dedicated) {
    s.lean = Lean::Sidecar;
    s.rule = "large team, dedicated SRE: sidecars affordable";
    s.seed = "Large, platform-mature team with dedicated SRE capacity: The sidecar model's granularity and "
             "flexibility justify its operational overhead.";
  } else {
    // 10 or more without dedicated SRE, or SRE capacity without a team size: the seed names only the two ends.
    s.lean = Lean::Gateway;
    s.rule = "not platform-mature yet: start with a gateway";
    s.seed = "Start with a centralized gateway only.";
  }
  return s;
}

// Factor 3: rate limiting semantics.
FactorScore limits(const Questionnaire& q) {
  FactorScore s = start(Factor::Limits, q);
  if (!q.limits) {
    s.rule = "say --limits hard|soft";
    return s;
  }
  s.answer = std::string(name_of(*q.limits)) + " limits";
  if (*q.limits == Limits::Hard) {
    s.lean = Lean::Gateway;
    s.rule = "zero overage: the gateway's strict ledger";
    s.seed = "Hard, strict limits with zero tolerance for overage (financial, compliance, or contractual): "
             "Centralized gateway with a synchronous token ledger.";
  } else {
    s.lean = Lean::Sidecar;
    s.rule = "small overage acceptable: leased sidecar budgets";
    s.seed = "Soft limits for cost management and fairness, with small overage acceptable: Sidecar with "
             "gossip-based coordination is sufficient and far more performant.";
  }
  return s;
}

// Factor 4: security and compliance posture.
FactorScore compliance(const Questionnaire& q) {
  FactorScore s = start(Factor::Compliance, q);
  if (!q.compliance) {
    s.rule = "say --compliance";
    return s;
  }
  s.answer = std::string(name_of(*q.compliance));
  if (*q.compliance == Compliance::Standard) {
    s.lean = Lean::Both;
    s.rule = "either satisfies it; sidecars add east-west mTLS";
    s.seed = "Standard commercial security requirements: Both models can satisfy these requirements.";
  } else {
    s.lean = Lean::Gateway;
    s.rule = "audited regime: one policy engine, one log stream";
    s.seed = "High-compliance environments (SOC 2 Type II, HIPAA, FedRAMP): Centralized gateways offer a cleaner "
             "audit story.";
  }
  return s;
}

// Factor 5: observability depth.
FactorScore observability(const Questionnaire& q) {
  FactorScore s = start(Factor::Observability, q);
  if (!q.observability) {
    s.rule = "say --observability per-call|dashboard";
    return s;
  }
  s.answer = *q.observability == Observability::PerCall ? "trace every call" : "a dashboard";
  if (*q.observability == Observability::PerCall) {
    s.lean = Lean::Sidecar;
    s.rule = "every agent-to-agent call traced: sidecars";
    s.seed = "You need to trace every internal agent-to-agent call for debugging and cost attribution: Sidecars "
             "are the only realistic path to this level of granularity";
  } else {
    s.lean = Lean::Gateway;
    s.rule = "a cost and performance dashboard: the gateway";
    s.seed = "You need a reliable, high-level cost and performance dashboard for stakeholders: A centralized "
             "gateway gives you this out of the box";
  }
  return s;
}

}  // namespace

std::string_view name_of(Lean lean) {
  switch (lean) {
    case Lean::Gateway: return "gateway";
    case Lean::Sidecar: return "sidecar";
    case Lean::Both: return "both";
    case Lean::Unanswered: break;
  }
  return "unanswered";
}

std::string percent(double share) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", share * 100);
  return buf;
}

Traffic traffic_of_share(double east_west_share) {
  if (east_west_share >= kEastWestShare) return Traffic::EastWest;
  if (east_west_share <= kNorthSouthShare) return Traffic::NorthSouth;
  return Traffic::Mixed;
}

std::vector<FactorScore> score_factors(const Questionnaire& q, const FleetMeasurement* measured) {
  return {topology(q, measured), team(q), limits(q), compliance(q), observability(q)};
}

}  // namespace tollway::advise
