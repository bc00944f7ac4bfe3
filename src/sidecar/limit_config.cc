#include "sidecar/limit_config.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "auth/config.h"
#include "limits/admission/config.h"
#include "core/glob.h"

namespace tollway::sidecar {
namespace {

using config::Validator;

constexpr int64_t kMaxLimit = 1'000'000'000'000;

std::optional<int64_t> parse_count(const std::string& s, int64_t max) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < 1 || n > max) return std::nullopt;
  return n;
}

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// One name of `to`: a peer, `gateway` (with sidecar.gateway) or `local`, never one that is both.
void check_destination(Validator& v, const YAML::Node& node, const std::string& path, const std::string& name,
                       const std::vector<std::string>& peers, bool has_gateway) {
  const bool peer = contains(peers, name);
  const bool gateway = name == kGatewayDestination;
  const bool local = name == kLocalDestination;
  if ((gateway || local) && peer)
    return v.fail(node, path, "\"" + name + "\" names both a peer and the " +
                                  (gateway ? "gateway" : "local agent") + ": rename the peer");
  if (gateway && !has_gateway)
    return v.fail(node, path, "\"gateway\" needs sidecar.gateway (where the agent's LLM calls go)");
  if (!peer && !gateway && !local)
    v.fail(node, path, "\"" + name + "\" is not a peer, gateway (LLM calls) or local (inbound calls to this agent)");
}

void read_match(Validator& v, const YAML::Node& m, const std::string& path, const std::vector<std::string>& peers,
                bool has_gateway, LocalLimitRule& r) {
  if (!m.IsDefined() || m.IsNull()) return;
  if (!v.check_mapping(m, path, {"from", "to", "tools", "skills"})) return;
  // Each of `from` and `to` is one string or a list of them.
  const auto list = [&](const char* key) {
    const YAML::Node n = m[key];
    if (n.IsDefined() && n.IsScalar()) {
      auto s = v.string_value(n, path + "." + key);
      return s ? std::vector<std::string>{*s} : std::vector<std::string>{};
    }
    return config::read_string_list(v, n, path + "." + key);
  };
  const auto item = [&](const char* key, std::size_t i) { return m[key].IsSequence() ? m[key][i] : m[key]; };
  const std::vector<std::string> from = list("from");
  for (std::size_t i = 0; i < from.size(); ++i) {
    std::string why;
    if (auto pattern = tls::SpiffeIdPattern::parse(from[i], &why))
      r.from.push_back(std::move(*pattern));
    else
      v.fail(item("from", i), path + ".from", "\"" + from[i] + "\": " + why);
  }
  r.to = list("to");
  for (std::size_t i = 0; i < r.to.size(); ++i)
    check_destination(v, item("to", i), path + ".to", r.to[i], peers, has_gateway);
  for (const auto& [key, named] : {std::pair{"tools", LocalLimitRule::Named::Tools}, {"skills", LocalLimitRule::Named::Skills}}) {
    if (!m[key].IsDefined()) continue;
    if (r.named != LocalLimitRule::Named::Calls)
      return v.fail(m[key], path + "." + key, "a rule counts tools or skills, not both");
    r.named = named;
    r.names = list(key);
    for (std::size_t i = 0; i < r.names.size(); ++i)
      if (const auto why = glob_syntax_error(r.names[i]); !why.empty())
        v.fail(item(key, i), path + "." + key, "\"" + r.names[i] + "\": " + std::string(why));
  }
}

// One entry of `rules:` (`budget` false) or `budgets:`; `lease`: the section's default lease modes.
void read_rule(Validator& v, const YAML::Node& n, const std::string& path, const std::vector<std::string>& peers,
               bool has_gateway, bool has_mcp, bool has_a2a, bool budget, const config::LeaseModes& lease, std::set<std::string>& names,
               LocalLimitsConfig& out) {
  static const std::vector<std::string> rule_keys = {"name", "match", "per", "unit", "limit", "window", "mode"};
  static const std::vector<std::string> budget_keys = {"name",   "match",  "per",
                                                       "unit",   "limit",  "period",
                                                       "mode",   "on_lease_exhausted", "on_control_unreachable",
                                                       "safe_allowance"};
  if (!v.check_mapping(n, path, budget ? budget_keys : rule_keys)) return;
  LocalLimitRule r;
  r.budget = budget;
  r.lease = lease;
  r.line = n.Mark().line + 1;
  const std::size_t errors = v.errors().size();
  if (!n["name"].IsDefined()) v.fail(n, path + ".name", "required: a unique name (letters, digits, '-', '_', '.')");
  v.optional_string(n, "name", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (!config::valid_limit_name(s))
      v.fail(node, path + ".name", "\"" + s + "\" is not a name (letters, digits, '-', '_', '.'; 1-64)");
    else if (!names.insert(s).second)
      v.fail(node, path + ".name", "\"" + s + "\" is already the name of another rule or budget");
    else
      r.name = s;
  });
  read_match(v, n["match"], path + ".match", peers, has_gateway, r);
  const std::vector<std::string> per = config::read_string_list(v, n["per"], path + ".per");
  for (std::size_t i = 0; i < per.size(); ++i) {
    bool& flag = per[i] == "from" ? r.per_from : per[i] == "to" ? r.per_to : r.per_name;
    if (per[i] != "from" && per[i] != "to" && per[i] != "tool" && per[i] != "skill")
      v.fail(n["per"][i], path + ".per", "\"" + per[i] + "\" is not from, to, tool or skill");
    else if (flag)
      v.fail(n["per"][i], path + ".per", "\"" + per[i] + "\" is listed twice");
    else
      flag = true;
  }
  v.optional_string(n, "unit", path + ".", [&](const YAML::Node& node, const std::string& s) {
    const auto unit = config::parse_limit_unit(s);
    if (!unit || *unit == config::LimitUnit::CostUsd)
      return v.fail(node, path + ".unit", "\"" + s + "\" is not a unit the sidecar counts (requests, input_tokens, "
                                          "output_tokens, total_tokens)");
    r.unit = *unit;
  });
  if (!n["limit"].IsDefined()) v.fail(n, path + ".limit", "required: a whole number from 1");
  v.optional_string(n, "limit", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (auto limit = parse_count(s, kMaxLimit)) r.limit = *limit;
    else v.fail(node, path + ".limit", "\"" + s + "\" is not a whole number from 1 to " + std::to_string(kMaxLimit));
  });
  if (budget) {
    if (!n["period"].IsDefined()) v.fail(n, path + ".period", "required: day or month (UTC calendar)");
    v.optional_string(n, "period", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s == "day") r.period = config::BudgetPeriod::Day;
      else if (s == "month") r.period = config::BudgetPeriod::Month;
      else v.fail(node, path + ".period", "\"" + s + "\" is not a period (allowed: day, month; UTC calendar)");
    });
    config::read_lease_modes(v, n, path, r.lease);
    if (!out.leased)
      for (const char* key : {"on_lease_exhausted", "on_control_unreachable", "safe_allowance"})
        if (n[key].IsDefined()) v.fail(n[key], path + "." + key, "applies to ledger: leased only");
  } else {
    if (!n["window"].IsDefined()) v.fail(n, path + ".window", "required: e.g. 1s, 1m, 1h, 1d (1s to 31d)");
    v.optional_string(n, "window", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (auto window = config::parse_limit_window(s)) r.window = *window;
      else v.fail(node, path + ".window", "\"" + s + "\" is not a window (1s to 31d, e.g. 1s, 1m, 1h, 1d)");
    });
  }
  v.optional_string(n, "mode", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (s == "shadow") r.shadow = true;
    else if (s != "enforce") v.fail(node, path + ".mode", "\"" + s + "\" is not a mode (enforce, shadow)");
  });
  const bool per_tool = std::find(per.begin(), per.end(), "tool") != per.end();
  const bool per_skill = std::find(per.begin(), per.end(), "skill") != per.end();
  if (r.named != LocalLimitRule::Named::Calls) {
    const bool tools = r.named == LocalLimitRule::Named::Tools;
    if (tools && !has_mcp) v.fail(n["match"], path + ".match.tools", "counts MCP tool calls to the local agent: add mcp:");
    if (!tools && !has_a2a) v.fail(n["match"], path + ".match.skills", "counts A2A messages to the local agent: add a2a:");
    if (r.counts_tokens()) v.fail(n, path + ".unit", tools ? "a tool rule counts requests" : "a skill rule counts requests");
    if (tools ? per_skill : per_tool) v.fail(n["per"], path + ".per", tools ? "per: skill needs match.skills" : "per: tool needs match.tools");
    for (const auto& to : r.to)
      if (to != kLocalDestination)
        v.fail(n["match"], path + ".match.to", "tool and skill calls reach the local agent: \"" + to + "\" is not local");
  } else if (per_tool || per_skill) {
    v.fail(n["per"], path + ".per", per_tool ? "per: tool needs match.tools" : "per: skill needs match.skills");
  }
  // Tokens are known only for LLM calls, which go to the gateway.
  if (r.counts_tokens()) {
    if (!has_gateway)
      v.fail(n, path + ".unit", "token units count LLM calls, which need sidecar.gateway");
    for (const auto& to : r.to)
      if (to != kGatewayDestination)
        v.fail(n["match"], path + ".match.to", "a token unit counts LLM calls only: \"" + to + "\" is not gateway");
  }
  if (v.errors().size() == errors) out.rules.push_back(std::move(r));
}

}  // namespace

bool LocalLimitsConfig::has_budgets() const {
  return std::any_of(rules.begin(), rules.end(), [](const LocalLimitRule& r) { return r.budget; });
}

void read_local_limits(Validator& v, const YAML::Node& node, const std::vector<std::string>& peer_names,
                       bool has_gateway, bool has_mcp, bool has_a2a, LocalLimitsConfig& out,
                       config::Limits& serving) {
  if (!node.IsDefined() || node.IsNull()) return;
  std::vector<std::string> keys = {"ledger", "leased", "default_max_tokens", "rules", "budgets"};
  keys.insert(keys.end(), config::connection_limit_keys().begin(), config::connection_limit_keys().end());
  if (!v.check_mapping(node, "limits", keys)) return;
  config::read_connection_limits(v, node, serving);
  v.optional_string(node, "ledger", "limits.", [&](const YAML::Node& n, const std::string& s) {
    if (s == "local") return;
    if (s == "leased") {
      out.leased = true;
      return;
    }
    if (s == "strict" || s == "redis")
      return v.fail(n, "limits.ledger",
                    "\"" + s + "\": the sidecar decides in process, with no network wait per call; use local, or "
                    "leased for budgets shared by the fleet");
    v.fail(n, "limits.ledger", "\"" + s + "\" is not a ledger (the sidecar supports local, leased)");
  });
  config::LeaseModes lease;
  if (const YAML::Node leased = node["leased"]; leased.IsDefined() && !leased.IsNull()) {
    if (!out.leased)
      v.fail(leased, "limits.leased", "applies to ledger: leased only");
    else if (v.check_mapping(leased, "limits.leased", {"on_lease_exhausted", "on_control_unreachable", "safe_allowance"}))
      config::read_lease_modes(v, leased, "limits.leased", lease);
  }
  v.optional_string(node, "default_max_tokens", "limits.", [&](const YAML::Node& n, const std::string& s) {
    if (auto tokens = parse_count(s, 100'000'000)) out.default_max_tokens = static_cast<uint64_t>(*tokens);
    else v.fail(n, "limits.default_max_tokens", "\"" + s + "\" is not a whole number from 1 to 100000000");
  });
  std::set<std::string> names;
  for (const bool budget : {false, true}) {
    const char* key = budget ? "budgets" : "rules";
    const std::string path = std::string("limits.") + key;
    const YAML::Node list = node[key];
    if (!list.IsDefined() || list.IsNull()) continue;
    if (!list.IsSequence()) {
      v.fail(list, path, budget ? "must be a list of {name, match, per, unit, limit, period, mode}"
                                : "must be a list of {name, match, per, unit, limit, window, mode}");
      continue;
    }
    for (std::size_t i = 0; i < list.size(); ++i)
      read_rule(v, list[i], path + "[" + std::to_string(i) + "]", peer_names, has_gateway, has_mcp, has_a2a, budget,
                lease, names, out);
  }
  if (out.leased && !out.has_budgets() && v.errors().empty())
    v.fail(node["ledger"], "limits.ledger", "leased shares budgets: add limits.budgets (rules are always per process)");
}

}  // namespace tollway::sidecar
