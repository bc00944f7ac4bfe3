#include "advise/questionnaire.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

#include "config/validator.h"

namespace tollway::advise {
namespace {

template <typename E, std::size_t N>
using Words = std::array<std::pair<E, std::string_view>, N>;

constexpr Words<Traffic, 3> kTraffic{{{Traffic::NorthSouth, "north-south"}, {Traffic::EastWest, "east-west"},
                                      {Traffic::Mixed, "mixed"}}};
constexpr Words<Sre, 3> kSre{{{Sre::None, "none"}, {Sre::PartTime, "part-time"}, {Sre::Dedicated, "dedicated"}}};
constexpr Words<Compliance, 5> kCompliance{{{Compliance::Standard, "standard"}, {Compliance::Soc2, "soc2"},
                                            {Compliance::Hipaa, "hipaa"}, {Compliance::Fedramp, "fedramp"},
                                            {Compliance::Pci, "pci"}}};
constexpr Words<Limits, 2> kLimits{{{Limits::Hard, "hard"}, {Limits::Soft, "soft"}}};
constexpr Words<Observability, 2> kObservability{{{Observability::PerCall, "per-call"},
                                                   {Observability::Dashboard, "dashboard"}}};
constexpr Words<Priority, 3> kPriority{
    {{Priority::High, "high"}, {Priority::Medium, "medium"}, {Priority::Low, "low"}}};
constexpr Words<Factor, 5> kFactor{{{Factor::Topology, "topology"}, {Factor::Team, "team"}, {Factor::Limits, "limits"},
                                    {Factor::Compliance, "compliance"}, {Factor::Observability, "observability"}}};

template <typename E, std::size_t N>
std::string_view word_of(const Words<E, N>& words, E v) {
  for (const auto& [value, word] : words)
    if (value == v) return word;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const Words<E, N>& words, std::string_view w) {
  for (const auto& [value, word] : words)
    if (word == w) return value;
  return std::nullopt;
}

std::optional<double> positive_number(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v > 0) || v > 1e9) return std::nullopt;
  return v;
}

// One enum-valued key of the document.
template <typename E>
void read_word(config::Validator& v, const YAML::Node& root, const char* key,
               std::optional<E> (*parse)(std::string_view), std::string_view allowed, std::optional<E>& out) {
  v.optional_string(root, key, "", [&](const YAML::Node& node, const std::string& text) {
    if (auto value = parse(text)) out = *value;
    else v.fail(node, key, "\"" + text + "\" is not one of: " + std::string(allowed));
  });
}

void read_workload(config::Validator& v, const YAML::Node& node, Questionnaire& q) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!v.check_mapping(node, "workload", {"cpu_cores", "memory_mib"})) return;
  for (const auto& field :
       {std::pair{"cpu_cores", &q.workload_cpu_cores}, std::pair{"memory_mib", &q.workload_memory_mib}}) {
    const char* key = field.first;
    std::optional<double>* out = field.second;
    v.optional_string(node, key, "workload.", [&](const YAML::Node& n, const std::string& text) {
      if (auto value = positive_number(text)) *out = *value;
      else v.fail(n, std::string("workload.") + key, "\"" + text + "\" is not a positive number");
    });
  }
}

void read_priorities(config::Validator& v, const YAML::Node& node, Questionnaire& q) {
  if (!node.IsDefined() || node.IsNull()) return;
  std::vector<std::string> allowed;
  for (const auto& [factor, word] : kFactor) allowed.emplace_back(word);
  if (!v.check_mapping(node, "priorities", allowed)) return;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const auto factor = parse_factor(key);
    if (!factor) continue;  // check_mapping reported it
    const auto text = v.string_value(kv.second, "priorities." + key);
    if (!text) continue;
    if (auto level = parse_priority(*text)) q.priorities[*factor] = *level;
    else v.fail(kv.second, "priorities." + key, "\"" + *text + "\" is not one of: " + std::string(kPriorityWords));
  }
}

}  // namespace

bool Questionnaire::empty() const {
  return !traffic && !team_size && !sre && !compliance && !limits && !observability && priorities.empty() &&
         !workload_cpu_cores && !workload_memory_mib;
}

Priority Questionnaire::priority(Factor f) const {
  const auto it = priorities.find(f);
  return it == priorities.end() ? Priority::Medium : it->second;
}

std::string_view name_of(Traffic v) { return word_of(kTraffic, v); }
std::string_view name_of(Sre v) { return word_of(kSre, v); }
std::string_view name_of(Compliance v) { return word_of(kCompliance, v); }
std::string_view name_of(Limits v) { return word_of(kLimits, v); }
std::string_view name_of(Observability v) { return word_of(kObservability, v); }
std::string_view name_of(Priority v) { return word_of(kPriority, v); }
std::string_view name_of(Factor v) { return word_of(kFactor, v); }

std::optional<Traffic> parse_traffic(std::string_view w) { return value_of(kTraffic, w); }
std::optional<Sre> parse_sre(std::string_view w) { return value_of(kSre, w); }
std::optional<Compliance> parse_compliance(std::string_view w) { return value_of(kCompliance, w); }
std::optional<Limits> parse_limits(std::string_view w) { return value_of(kLimits, w); }
std::optional<Observability> parse_observability(std::string_view w) { return value_of(kObservability, w); }
std::optional<Priority> parse_priority(std::string_view w) { return value_of(kPriority, w); }
std::optional<Factor> parse_factor(std::string_view w) { return value_of(kFactor, w); }

QuestionnaireResult parse_questionnaire(std::string_view text, const std::string& file) {
  QuestionnaireResult result;
  const config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  config::Validator v(file, env);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    v.fail_at(e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    result.errors = std::move(v.errors());
    return result;
  }
  Questionnaire& q = result.questionnaire;
  if (root.IsNull()) return result;  // an empty file says nothing
  try {  // a key or value of the wrong YAML type (a sequence as a key) throws
    if (!v.check_mapping(root, "", {"traffic", "team_size", "sre", "compliance", "limits", "observability",
                                    "priorities", "workload"})) {
      result.errors = std::move(v.errors());
      return result;
    }
    read_word(v, root, "traffic", parse_traffic, kTrafficWords, q.traffic);
    read_word(v, root, "sre", parse_sre, kSreWords, q.sre);
    read_word(v, root, "compliance", parse_compliance, kComplianceWords, q.compliance);
    read_word(v, root, "limits", parse_limits, kLimitsWords, q.limits);
    read_word(v, root, "observability", parse_observability, kObservabilityWords, q.observability);
    v.optional_string(root, "team_size", "", [&](const YAML::Node& node, const std::string& t) {
      int n = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec != std::errc() || end != t.data() + t.size() || n < 1 || n > 100000)
        v.fail(node, "team_size", "\"" + t + "\" is not a number of engineers (1 to 100000)");
      else q.team_size = n;
    });
    read_priorities(v, root["priorities"], q);
    read_workload(v, root["workload"], q);
  } catch (const YAML::Exception& e) {
    v.fail_at(e.mark.line + 1, "", "unreadable YAML: " + e.msg);
  }
  result.errors = std::move(v.errors());
  return result;
}

bool set_priority(Questionnaire& q, std::string_view assignment, std::string& error) {
  const std::size_t eq = assignment.find('=');
  const auto factor = eq == std::string_view::npos ? std::nullopt : parse_factor(assignment.substr(0, eq));
  const auto level = eq == std::string_view::npos ? std::nullopt : parse_priority(assignment.substr(eq + 1));
  if (!factor || !level) {
    error = "--priority \"" + std::string(assignment) + "\": expected FACTOR=LEVEL, FACTOR one of " +
            std::string(kFactorWords) + ", LEVEL one of " + std::string(kPriorityWords);
    return false;
  }
  q.priorities[*factor] = *level;
  return true;
}

}  // namespace tollway::advise
