#include "advise/sim/scenario_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "advise/sim/agent_graph.h"
#include "advise/sim/hop_costs.h"

namespace tollway::sim {

std::string ScenarioError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + key_path + ": " + message;
}

std::optional<double> parse_time_us(std::string_view text) {
  std::size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.'))
    ++unit_at;
  if (unit_at == 0) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (ec != std::errc() || end != text.data() + unit_at) return std::nullopt;
  static const std::map<std::string_view, double> kUnits = {
      {"us", 1.0}, {"µs", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6}};
  const auto unit = kUnits.find(text.substr(unit_at));
  if (unit == kUnits.end()) return std::nullopt;
  return value * unit->second;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  std::vector<ScenarioError> errors;

  void fail(const YAML::Node& node, const std::string& path, std::string message) {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    errors.push_back({file_, line, path, std::move(message)});
  }

  bool mapping(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed) {
    if (!node.IsMap()) {
      fail(node, path, "must be a mapping with keys: " + join(allowed));
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        fail(kv.first, path, "keys must be plain words (allowed here: " + join(allowed) + ")");
        continue;
      }
      const std::string key = kv.first.Scalar();
      const std::string key_path = sub(path, key);
      if (!seen.insert(key).second) fail(kv.first, key_path, "duplicate key");
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(kv.first, key_path, "unknown key (allowed here: " + join(allowed) + ")");
    }
    return true;
  }

  static std::string sub(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::optional<double> number(const YAML::Node& node, const std::string& path, double min, double max) {
    double v = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !std::isfinite(v)) {
      fail(node, path, "must be a number");
      return std::nullopt;
    }
    if (v < min || v > max) {
      fail(node, path, "must be between " + fmt(min) + " and " + fmt(max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> time_us(const YAML::Node& node, const std::string& path) {
    const auto v = node.IsScalar() ? parse_time_us(node.Scalar()) : std::nullopt;
    if (!v) fail(node, path, "must be a time with its unit (e.g. 56us, 3ms, 1.5s, 1h)");
    return v;
  }

  // A time distribution: "3ms" (constant), {p50: 56us, p99: 439us} (log-normal), {samples_us: [80, 95, …]}.
  std::optional<Distribution> time_distribution(const YAML::Node& node, const std::string& path) {
    if (node.IsScalar()) {
      const auto v = time_us(node, path);
      return v ? std::optional(Distribution::constant(*v)) : std::nullopt;
    }
    if (!mapping(node, path, {"p50", "p99", "samples_us"})) return std::nullopt;
    if (node["samples_us"]) return samples(node["samples_us"], sub(path, "samples_us"));
    if (!node["p50"] || !node["p99"]) {
      fail(node, path, "needs both p50 and p99 (or samples_us)");
      return std::nullopt;
    }
    const auto p50 = time_us(node["p50"], sub(path, "p50"));
    const auto p99 = time_us(node["p99"], sub(path, "p99"));
    if (!p50 || !p99) return std::nullopt;
    if (*p50 <= 0 || *p99 < *p50) {
      fail(node, path, "needs 0 < p50 <= p99");
      return std::nullopt;
    }
    return Distribution::lognormal_p50_p99(*p50, *p99);
  }

  // A token distribution: 120 (constant), {p50: 500, p99: 4000}, {samples: [..]}.
  std::optional<Distribution> token_distribution(const YAML::Node& node, const std::string& path) {
    if (node.IsScalar()) {
      const auto v = number(node, path, 0, 1e9);
      return v ? std::optional(Distribution::constant(*v)) : std::nullopt;
    }
    if (!mapping(node, path, {"p50", "p99", "samples"})) return std::nullopt;
    if (node["samples"]) return samples(node["samples"], sub(path, "samples"));
    if (!node["p50"] || !node["p99"]) {
      fail(node, path, "needs both p50 and p99 (or samples)");
      return std::nullopt;
    }
    const auto p50 = number(node["p50"], sub(path, "p50"), 1e-9, 1e9);
    const auto p99 = number(node["p99"], sub(path, "p99"), 1e-9, 1e9);
    if (!p50 || !p99) return std::nullopt;
    if (*p99 < *p50) {
      fail(node, path, "needs p50 <= p99");
      return std::nullopt;
    }
    return Distribution::lognormal_p50_p99(*p50, *p99);
  }

  // A count: 3, or {0: 0.2, 1: 0.5, 3: 0.3} (value: weight).
  std::optional<Distribution> count_distribution(const YAML::Node& node, const std::string& path) {
    if (node.IsScalar()) {
      const auto v = number(node, path, 0, 64);
      if (v && *v != std::floor(*v)) fail(node, path, "must be a whole number");
      return v ? std::optional(Distribution::constant(std::floor(*v))) : std::nullopt;
    }
    if (!node.IsMap() || node.size() == 0) {
      fail(node, path, "must be a count (0-64) or a mapping of count: weight");
      return std::nullopt;
    }
    std::vector<double> values, weights;
    for (const auto& kv : node) {
      const auto value = number(kv.first, path, 0, 64);
      const auto weight = number(kv.second, sub(path, kv.first.Scalar()), 0, 1e9);
      if (!value || !weight) return std::nullopt;
      if (*value != std::floor(*value)) {
        fail(kv.first, path, "counts must be whole numbers");
        return std::nullopt;
      }
      values.push_back(*value);
      weights.push_back(*weight);
    }
    double total = 0;
    for (double w : weights) total += w;
    if (total <= 0) {
      fail(node, path, "the weights must not all be 0");
      return std::nullopt;
    }
    return Distribution::discrete(std::move(values), std::move(weights));
  }

 private:
  std::optional<Distribution> samples(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence() || node.size() == 0) {
      fail(node, path, "must be a non-empty list of numbers");
      return std::nullopt;
    }
    std::vector<double> values;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto v = number(node[i], path + "[" + std::to_string(i) + "]", 0, 1e12);
      if (!v) return std::nullopt;
      values.push_back(*v);
    }
    return Distribution::empirical(std::move(values));
  }

  static std::string fmt(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  std::string file_;
};

class ScenarioReader {
 public:
  explicit ScenarioReader(std::string file) : r_(std::move(file)) {}

  ScenarioLoad read(const YAML::Node& root) {
    ScenarioLoad out;
    Scenario s;
    s.hops = default_hop_costs();
    s.resources = default_resources();
    if (r_.mapping(root, "",
                   {"name", "seed", "duration", "load", "hop_costs", "llm", "graph", "budget", "resources"})) {
      if (root["name"]) s.name = root["name"].Scalar();
      if (root["seed"])
        if (const auto v = r_.number(root["seed"], "seed", 0, 9007199254740992.0)) s.seed = static_cast<uint64_t>(*v);
      if (root["duration"])
        if (const auto v = r_.time_us(root["duration"], "duration")) {
          if (*v > 0) s.duration_s = *v / 1e6;
          else r_.fail(root["duration"], "duration", "must be longer than 0");
        }
      if (root["load"]) load(root["load"], s);
      if (root["hop_costs"]) hop_costs(root["hop_costs"], s.hops);
      default_llm_ = default_llm();
      if (root["llm"]) default_llm_ = llm(root["llm"], "llm", default_llm_);
      if (!root["graph"]) r_.fail(root, "graph", "is required");
      else graph(root["graph"], s.graph);
      if (root["budget"]) budget(root["budget"], s.budget);
      if (root["resources"]) resources(root["resources"], s.resources);
      if (s.tasks_per_second <= 0 && s.requests_per_agent_per_second <= 0)
        r_.fail(root["load"], "load", "needs tasks_per_second or requests_per_agent_per_second");
      // demand_by: agent simulates one node per agent replica: as many as budget.nodes may be (10,000,000).
      constexpr int64_t kMaxNodes = 10'000'000;
      if (s.budget.demand_by == BudgetModel::DemandBy::Agent && r_.errors.empty()) {
        if (s.budget.nodes > 0 && s.budget.nodes != s.graph.agents())
          r_.fail(root["budget"]["nodes"], "budget.nodes",
                  "is " + std::to_string(s.budget.nodes) + ", but demand_by: agent holds one node per agent replica (" +
                      std::to_string(s.graph.agents()) + " here): leave nodes out or set it to that");
        else if (s.graph.agents() > kMaxNodes)
          r_.fail(root["budget"]["demand_by"], "budget.demand_by",
                  "agent: the graph has " + std::to_string(s.graph.agents()) +
                      " agent replicas, one node each; at most 10000000 are simulated (use zipf with budget.nodes)");
      }
      if (s.budget.lease_ttl_us <= s.budget.sync_interval_us)
        r_.fail(root["budget"], "budget.lease_ttl",
                "must be longer than sync_interval (a lease is renewed every sync)");
    }
    out.errors = std::move(r_.errors);
    if (out.errors.empty()) out.scenario = std::move(s);
    return out;
  }

 private:
  static LlmCall default_llm() {
    LlmCall c;
    c.latency_us = Distribution::lognormal_p50_p99(800e3, 4e6);
    c.prompt_tokens = Distribution::lognormal_p50_p99(500, 4000);
    c.completion_tokens = Distribution::lognormal_p50_p99(200, 1000);
    c.max_tokens = 1024;
    return c;
  }

  void load(const YAML::Node& n, Scenario& s) {
    if (!r_.mapping(n, "load",
                    {"tasks_per_second", "requests_per_agent_per_second", "north_south_share", "latency_samples"}))
      return;
    if (n["tasks_per_second"] && n["requests_per_agent_per_second"])
      r_.fail(n, "load", "set tasks_per_second or requests_per_agent_per_second, not both");
    if (n["tasks_per_second"])
      if (const auto v = r_.number(n["tasks_per_second"], "load.tasks_per_second", 1e-9, 1e12)) s.tasks_per_second = *v;
    if (n["requests_per_agent_per_second"])
      if (const auto v = r_.number(n["requests_per_agent_per_second"], "load.requests_per_agent_per_second", 1e-9, 1e9))
        s.requests_per_agent_per_second = *v;
    if (n["north_south_share"])
      if (const auto v = r_.number(n["north_south_share"], "load.north_south_share", 0, 1)) s.north_south_share = *v;
    if (n["latency_samples"])
      if (const auto v = r_.number(n["latency_samples"], "load.latency_samples", 1, 1e8))
        s.latency_samples = static_cast<int64_t>(*v);
  }

  void hop_costs(const YAML::Node& n, HopCosts& h) {
    if (!r_.mapping(n, "hop_costs", {"gateway", "sidecar_pair", "sidecar_one", "sidecar_gateway"})) return;
    const std::pair<const char*, Distribution*> kinds[] = {
        {"gateway", &h.gateway}, {"sidecar_pair", &h.sidecar_pair}, {"sidecar_one", &h.sidecar_one},
        {"sidecar_gateway", &h.sidecar_gateway}};
    for (const auto& [key, target] : kinds)
      if (n[key])
        if (auto d = r_.time_distribution(n[key], std::string("hop_costs.") + key)) *target = std::move(*d);
  }

  LlmCall llm(const YAML::Node& n, const std::string& path, LlmCall c) {
    if (n.IsNull()) return c;
    if (!r_.mapping(n, path, {"latency", "prompt_tokens", "completion_tokens", "max_tokens"})) return c;
    if (n["latency"])
      if (auto d = r_.time_distribution(n["latency"], path + ".latency")) c.latency_us = std::move(*d);
    if (n["prompt_tokens"])
      if (auto d = r_.token_distribution(n["prompt_tokens"], path + ".prompt_tokens")) c.prompt_tokens = std::move(*d);
    if (n["completion_tokens"])
      if (auto d = r_.token_distribution(n["completion_tokens"], path + ".completion_tokens"))
        c.completion_tokens = std::move(*d);
    if (n["max_tokens"])
      if (const auto v = r_.number(n["max_tokens"], path + ".max_tokens", 0, 1e7)) c.max_tokens = *v;
    return c;
  }

  void graph(const YAML::Node& n, Graph& g) {
    if (!r_.mapping(n, "graph", {"root", "agents", "generate"})) return;
    if (n["generate"]) {
      if (n["agents"] || n["root"]) r_.fail(n, "graph", "set generate, or root and agents, not both");
      generate(n["generate"], g);
      check_calls_per_task(n, g);
      return;
    }
    if (!n["agents"] || !n["agents"].IsSequence() || n["agents"].size() == 0) {
      r_.fail(n, "graph.agents", "must be a non-empty list of agents (or use graph.generate)");
      return;
    }
    const YAML::Node agents = n["agents"];
    std::map<std::string, int> index;
    for (std::size_t i = 0; i < agents.size(); ++i) {
      const YAML::Node name = agents[i].IsMap() ? agents[i]["name"] : YAML::Node();
      if (!name || !name.IsScalar()) continue;
      if (!index.emplace(name.Scalar(), static_cast<int>(i)).second)
        r_.fail(name, "graph.agents[" + std::to_string(i) + "].name", "duplicate agent name");
    }
    g.llm_calls.push_back(default_llm_);
    for (std::size_t i = 0; i < agents.size(); ++i)
      g.roles.push_back(role(agents[i], "graph.agents[" + std::to_string(i) + "]", index, g));
    if (n["root"]) {
      const auto root = index.find(n["root"].Scalar());
      if (root == index.end()) r_.fail(n["root"], "graph.root", "names no agent in graph.agents");
      else g.root = root->second;
    }
    if (r_.errors.empty())
      if (const auto cycle = find_cycle(g))
        r_.fail(n, "graph", "agent \"" + *cycle +
                                "\" can reach itself through admitted calls (deny < 1): a task would never end");
    check_calls_per_task(n, g);
  }

  // Every sampled task is walked call by call: a graph whose tasks make millions of calls would never finish.
  void check_calls_per_task(const YAML::Node& n, const Graph& g) {
    constexpr double kMaxCallsPerTask = 1e6;
    if (!r_.errors.empty() || g.roles.empty()) return;
    const double calls = expected_calls(g).total();
    if (calls > kMaxCallsPerTask)
      r_.fail(n, "graph", "a task makes " + std::to_string(static_cast<int64_t>(calls)) +
                              " calls on average; at most 1000000 are simulated");
  }

  Role role(const YAML::Node& n, const std::string& path, const std::map<std::string, int>& index, Graph& g) {
    Role role;
    if (!r_.mapping(n, path, {"name", "replicas", "work", "steps"})) return role;
    if (!n["name"]) r_.fail(n, path + ".name", "is required");
    else role.name = n["name"].Scalar();
    if (n["replicas"])
      if (const auto v = r_.number(n["replicas"], path + ".replicas", 1, 1e9)) role.replicas = static_cast<int64_t>(*v);
    if (n["work"])
      if (auto d = r_.time_distribution(n["work"], path + ".work")) role.work_us = std::move(*d);
    const YAML::Node steps = n["steps"];
    if (!steps) return role;
    if (!steps.IsSequence()) {
      r_.fail(steps, path + ".steps", "must be a list of steps (a call, or parallel: [calls])");
      return role;
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::string step_path = path + ".steps[" + std::to_string(i) + "]";
      Step step;
      if (steps[i].IsMap() && steps[i]["parallel"]) {
        r_.mapping(steps[i], step_path, {"parallel"});
        const YAML::Node calls = steps[i]["parallel"];
        if (!calls.IsSequence() || calls.size() == 0)
          r_.fail(calls, step_path + ".parallel", "must be a non-empty list of calls");
        else
          for (std::size_t j = 0; j < calls.size(); ++j)
            step.calls.push_back(call(calls[j], step_path + ".parallel[" + std::to_string(j) + "]", index, g));
      } else {
        step.calls.push_back(call(steps[i], step_path, index, g));
      }
      role.steps.push_back(std::move(step));
    }
    return role;
  }

  Call call(const YAML::Node& n, const std::string& path, const std::map<std::string, int>& index, Graph& g) {
    Call c;
    c.count = Distribution::constant(1);
    if (!r_.mapping(n, path, {"agent", "llm", "count", "probability", "deny"})) return c;
    if (static_cast<bool>(n["agent"]) == static_cast<bool>(n["llm"])) {
      r_.fail(n, path, "a call names either agent: NAME or llm: {…}");
      return c;
    }
    if (n["agent"]) {
      c.kind = Call::Kind::Agent;
      const auto target = index.find(n["agent"].Scalar());
      if (target == index.end()) r_.fail(n["agent"], path + ".agent", "names no agent in graph.agents");
      else c.target = target->second;
    } else {
      c.kind = Call::Kind::Llm;
      if (n["llm"].IsMap() && n["llm"].size() > 0) {
        g.llm_calls.push_back(llm(n["llm"], path + ".llm", default_llm_));
        c.llm = static_cast<int>(g.llm_calls.size()) - 1;
      } else if (n["llm"].IsNull() || (n["llm"].IsMap() && n["llm"].size() == 0)) {
        c.llm = 0;
      } else {
        r_.fail(n["llm"], path + ".llm",
                "must be a mapping (latency, prompt_tokens, completion_tokens, max_tokens) or {}");
      }
    }
    if (n["count"])
      if (auto d = r_.count_distribution(n["count"], path + ".count")) c.count = std::move(*d);
    if (n["probability"])
      if (const auto v = r_.number(n["probability"], path + ".probability", 0, 1)) c.probability = *v;
    if (n["deny"])
      if (const auto v = r_.number(n["deny"], path + ".deny", 0, 1)) c.deny = *v;
    return c;
  }

  void generate(const YAML::Node& n, Graph& g) {
    const std::string path = "graph.generate";
    if (!r_.mapping(n, path,
                    {"depth", "roles_per_level", "replicas", "fan_out", "llm_steps", "east_west_deny", "llm_deny",
                              "work"}))
      return;
    GraphSpec spec;
    spec.llm = default_llm_;
    if (n["depth"])
      if (const auto v = r_.number(n["depth"], path + ".depth", 0, 32)) spec.depth = static_cast<int>(*v);
    if (n["roles_per_level"])
      if (const auto v = r_.number(n["roles_per_level"], path + ".roles_per_level", 1, 1e6))
        spec.roles_per_level = static_cast<int>(*v);
    if (n["replicas"])
      if (const auto v = r_.number(n["replicas"], path + ".replicas", 1, 1e9)) spec.replicas = static_cast<int64_t>(*v);
    if (n["fan_out"])
      if (auto d = r_.count_distribution(n["fan_out"], path + ".fan_out")) spec.fan_out = std::move(*d);
    if (n["llm_steps"])
      if (const auto v = r_.number(n["llm_steps"], path + ".llm_steps", 0, 64)) spec.llm_steps = static_cast<int>(*v);
    if (n["east_west_deny"])
      if (const auto v = r_.number(n["east_west_deny"], path + ".east_west_deny", 0, 1)) spec.east_west_deny = *v;
    if (n["llm_deny"])
      if (const auto v = r_.number(n["llm_deny"], path + ".llm_deny", 0, 1)) spec.llm_deny = *v;
    if (n["work"])
      if (auto d = r_.time_distribution(n["work"], path + ".work")) spec.work_us = std::move(*d);
    // Each role of a level holds one call per role of the next: depth × roles_per_level² calls in the graph.
    constexpr double kMaxGeneratedCalls = 1e6;
    const double generated_calls = spec.depth * static_cast<double>(spec.roles_per_level) * spec.roles_per_level;
    if (generated_calls > kMaxGeneratedCalls) {
      r_.fail(n, path, "depth × roles_per_level² = " + std::to_string(static_cast<int64_t>(generated_calls)) +
                           " calls in the graph; at most 1000000");
      return;
    }
    g = generate_graph(spec);
  }

  void budget(const YAML::Node& n, BudgetModel& b) {
    const std::string p = "budget.";
    if (!r_.mapping(n, "budget", {"ledger", "limit", "nodes", "sync_interval", "lease_ttl", "report_latency", "demand_by",
                                  "demand_skew", "on_lease_exhausted", "nodes_lost", "lost_at_spent"}))
      return;
    if (n["ledger"]) {
      const std::string v = n["ledger"].Scalar();
      if (v == "leased") b.ledger = BudgetModel::Ledger::Leased;
      else if (v == "strict") b.ledger = BudgetModel::Ledger::Strict;
      else r_.fail(n["ledger"], p + "ledger", "\"" + v + "\" is not a ledger here (allowed: leased, strict)");
    }
    if (n["limit"])
      if (const auto v = r_.number(n["limit"], p + "limit", 0, 1e18)) b.limit_tokens = *v;
    if (n["nodes"])
      if (const auto v = r_.number(n["nodes"], p + "nodes", 1, 1e7)) b.nodes = static_cast<int64_t>(*v);
    if (n["sync_interval"])
      if (const auto v = r_.time_us(n["sync_interval"], p + "sync_interval")) b.sync_interval_us = std::max(*v, 1.0);
    if (n["lease_ttl"])
      if (const auto v = r_.time_us(n["lease_ttl"], p + "lease_ttl")) b.lease_ttl_us = *v;
    if (n["report_latency"])
      if (auto d = r_.time_distribution(n["report_latency"], p + "report_latency")) b.report_latency_us = std::move(*d);
    if (n["demand_by"]) {
      const std::string v = n["demand_by"].Scalar();
      if (v == "zipf") b.demand_by = BudgetModel::DemandBy::Zipf;
      else if (v == "agent") b.demand_by = BudgetModel::DemandBy::Agent;
      else r_.fail(n["demand_by"], p + "demand_by", "\"" + v + "\" is not a demand split (allowed: zipf, agent)");
    }
    if (n["demand_skew"]) {
      if (b.demand_by == BudgetModel::DemandBy::Agent)
        r_.fail(n["demand_skew"], p + "demand_skew", "applies to demand_by: zipf only (agent: the roles' own tokens)");
      else if (const auto v = r_.number(n["demand_skew"], p + "demand_skew", 0, 10))
        b.demand_skew = *v;
    }
    if (n["on_lease_exhausted"]) {
      const std::string v = n["on_lease_exhausted"].Scalar();
      if (v == "deny") b.allow_beyond_lease = false;
      else if (v == "allow") b.allow_beyond_lease = true;
      else
        r_.fail(n["on_lease_exhausted"], p + "on_lease_exhausted",
                "\"" + v + "\" is not simulated (allowed: deny, allow)");
    }
    if (n["nodes_lost"])
      if (const auto v = r_.number(n["nodes_lost"], p + "nodes_lost", 0, 1e7)) b.nodes_lost = static_cast<int64_t>(*v);
    if (n["lost_at_spent"])
      if (const auto v = r_.number(n["lost_at_spent"], p + "lost_at_spent", 0, 1)) b.lost_at_spent = *v;
  }

  void resources(const YAML::Node& n, Resources& r) {
    const std::string p = "resources.";
    if (!r_.mapping(n, "resources", {"agent_cpu_millicores", "agent_memory_mb", "sidecar"})) return;
    if (n["agent_cpu_millicores"])
      if (const auto v = r_.number(n["agent_cpu_millicores"], p + "agent_cpu_millicores", 0, 1e9))
        r.agent_cpu_millicores = *v;
    if (n["agent_memory_mb"])
      if (const auto v = r_.number(n["agent_memory_mb"], p + "agent_memory_mb", 0, 1e9)) r.agent_memory_mb = *v;
    const YAML::Node s = n["sidecar"];
    if (!s) return;
    if (!r_.mapping(s, p + "sidecar", {"cpu_us_per_request", "rss_idle_mb", "rss_1000rps_mb", "cpu_reserved_millicores",
                                       "memory_reserved_mb"}))
      return;
    const std::pair<const char*, double*> fields[] = {{"cpu_us_per_request", &r.sidecar_cpu_us_per_request},
                                                      {"rss_idle_mb", &r.sidecar_rss_idle_mb},
                                                      {"rss_1000rps_mb", &r.sidecar_rss_1000rps_mb},
                                                      {"cpu_reserved_millicores", &r.sidecar_cpu_reserved_millicores},
                                                      {"memory_reserved_mb", &r.sidecar_memory_reserved_mb}};
    for (const auto& [key, target] : fields)
      if (s[key])
        if (const auto v = r_.number(s[key], p + "sidecar." + key, 0, 1e9)) *target = *v;
  }

  Reader r_;
  LlmCall default_llm_;
};

}  // namespace

ScenarioLoad load_scenario(std::string_view yaml_text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    ScenarioLoad out;
    out.errors.push_back({file, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", "not valid YAML: " + e.msg});
    return out;
  }
  return ScenarioReader(file).read(root);
}

}  // namespace tollway::sim
