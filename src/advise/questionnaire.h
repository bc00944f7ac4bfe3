// Questionnaire: what a team says about itself for `tollway advise` — the inputs of the seed's five factors (traffic
// topology, team size and SRE capacity, hard or soft limits, compliance regime, observability need), how much each
// factor matters to them (High / Medium / Low, as the seed asks), and optionally what their agents' own processes
// use (to put the sidecars' measured CPU and memory beside it). Read from a YAML file (errors with file:line, like
// every tollway config) and from command-line flags that override it. Pure: it never reads the network, never
// scores anything (factors.h does) and never guesses an answer that was not given.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

namespace tollway::advise {

enum class Traffic { NorthSouth, EastWest, Mixed };
enum class Sre { None, PartTime, Dedicated };
enum class Compliance { Standard, Soc2, Hipaa, Fedramp, Pci };
enum class Limits { Hard, Soft };
enum class Observability { PerCall, Dashboard };
enum class Priority { Low = 1, Medium = 2, High = 3 };
enum class Factor { Topology, Team, Limits, Compliance, Observability };

inline constexpr Factor kFactors[] = {Factor::Topology, Factor::Team, Factor::Limits, Factor::Compliance,
                                      Factor::Observability};

struct Questionnaire {
  std::optional<Traffic> traffic;
  std::optional<int> team_size;  // engineers who build and run the system
  std::optional<Sre> sre;
  std::optional<Compliance> compliance;
  std::optional<Limits> limits;
  std::optional<Observability> observability;
  std::map<Factor, Priority> priorities;      // absent: Medium
  std::optional<double> workload_cpu_cores;   // what the agents' own processes use, all replicas together
  std::optional<double> workload_memory_mib;

  bool empty() const;
  Priority priority(Factor f) const;
};

// Each enum's words, as the YAML file and the flags spell them (the first is the canonical name).
std::string_view name_of(Traffic v);
std::string_view name_of(Sre v);
std::string_view name_of(Compliance v);
std::string_view name_of(Limits v);
std::string_view name_of(Observability v);
std::string_view name_of(Priority v);
std::string_view name_of(Factor v);  // topology, team, limits, compliance, observability

// Word -> value; nullopt for any other word. `allowed_*` lists the words for error messages.
std::optional<Traffic> parse_traffic(std::string_view word);
std::optional<Sre> parse_sre(std::string_view word);
std::optional<Compliance> parse_compliance(std::string_view word);
std::optional<Limits> parse_limits(std::string_view word);
std::optional<Observability> parse_observability(std::string_view word);
std::optional<Priority> parse_priority(std::string_view word);
std::optional<Factor> parse_factor(std::string_view word);
inline constexpr std::string_view kTrafficWords = "north-south, east-west, mixed";
inline constexpr std::string_view kSreWords = "none, part-time, dedicated";
inline constexpr std::string_view kComplianceWords = "standard, soc2, hipaa, fedramp, pci";
inline constexpr std::string_view kLimitsWords = "hard, soft";
inline constexpr std::string_view kObservabilityWords = "per-call, dashboard";
inline constexpr std::string_view kPriorityWords = "high, medium, low";
inline constexpr std::string_view kFactorWords = "topology, team, limits, compliance, observability";

struct QuestionnaireResult {
  Questionnaire questionnaire;
  std::vector<config::ConfigError> errors;  // "FILE:LINE: key: message"; non-empty = refused
};

// The YAML document `text` (read from `file`, named in errors). Keys: traffic, team_size, sre, compliance, limits,
// observability, priorities (a mapping factor -> high|medium|low), workload (cpu_cores, memory_mib).
QuestionnaireResult parse_questionnaire(std::string_view text, const std::string& file);

// "FACTOR=LEVEL" (the --priority flag) into `q`; false with `error` when either word is unknown.
bool set_priority(Questionnaire& q, std::string_view assignment, std::string& error);

}  // namespace tollway::advise
