#include "limits/admission/config.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include "providers/usage/config.h"
#include "core/glob.h"

namespace tollway::config {
namespace {

constexpr int64_t kMaxCount = 1'000'000'000'000;     // tokens or requests per window / period
constexpr int64_t kMaxWindowMs = 31LL * 86'400'000;  // a GCRA window longer than a month is a budget

const std::vector<std::string> kMatchKeys = {"tenant", "agent_group", "agent", "key", "model", "session"};
const std::vector<std::string> kUnits = {"requests", "input_tokens", "output_tokens", "total_tokens",
                                         "cost_usd"};

std::optional<int64_t> parse_whole(const std::string& s, int64_t min, int64_t max) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || n < min || n > max) return std::nullopt;
  return n;
}

std::optional<Dimension> parse_dimension(const std::string& s) {
  if (s == "tenant") return Dimension::Tenant;
  if (s == "agent_group") return Dimension::AgentGroup;
  if (s == "agent") return Dimension::Agent;
  if (s == "key") return Dimension::Key;
  if (s == "model") return Dimension::Model;
  if (s == "session") return Dimension::Session;
  return std::nullopt;
}

}  // namespace

std::optional<LimitUnit> parse_limit_unit(const std::string& s) {
  if (s == "requests") return LimitUnit::Requests;
  if (s == "input_tokens") return LimitUnit::InputTokens;
  if (s == "output_tokens") return LimitUnit::OutputTokens;
  if (s == "total_tokens") return LimitUnit::TotalTokens;
  if (s == "cost_usd") return LimitUnit::CostUsd;
  return std::nullopt;
}

// "1s", "10m", "1h", "1d": a GCRA window.
std::optional<std::chrono::milliseconds> parse_limit_window(const std::string& s) {
  if (!s.empty() && s.back() == 'd') {
    auto days = parse_whole(s.substr(0, s.size() - 1), 1, 31);
    if (!days) return std::nullopt;
    return std::chrono::milliseconds(*days * 86'400'000);
  }
  auto d = units::parse_duration(s);
  if (!d || d->count() < 1000 || d->count() > kMaxWindowMs) return std::nullopt;
  return d;
}

bool valid_limit_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

namespace {

// A boolean written as true/false.
void read_bool(Validator& v, const YAML::Node& parent, const char* key, const std::string& path, bool& out) {
  v.optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& s) {
    if (s == "true")
      out = true;
    else if (s == "false")
      out = false;
    else
      v.fail(node, path + key, "\"" + s + "\" is not a boolean (true or false)");
  });
}

// The fields rules and budgets share: name, match, per, unit, limit, mode, on_store_error.
template <typename Rule>
bool read_common(Validator& v, const YAML::Node& n, const std::string& path, std::set<std::string>& names,
                 Rule& r) {
  bool ok = true;
  if (!n["name"].IsDefined()) {
    v.fail(n, path + ".name", "required: a unique name (letters, digits, '-', '_', '.'; at most 64)");
    ok = false;
  } else if (auto s = v.string_value(n["name"], path + ".name")) {
    if (!valid_limit_name(*s)) {
      v.fail(n["name"], path + ".name",
             "\"" + *s + "\" is not a name (letters, digits, '-', '_', '.'; 1-64)");
      ok = false;
    } else if (!names.insert(*s).second) {
      v.fail(n["name"], path + ".name", "\"" + *s + "\" is already the name of another rule or budget");
      ok = false;
    } else {
      r.name = *s;
    }
  }
  if (const YAML::Node m = n["match"]; m.IsDefined() && !m.IsNull()) {
    if (v.check_mapping(m, path + ".match", kMatchKeys)) {
      std::string* fields[] = {&r.match.tenant, &r.match.agent_group, &r.match.agent,
                               &r.match.key,    &r.match.model,       &r.match.session};
      for (std::size_t i = 0; i < kMatchKeys.size(); ++i) {
        v.optional_string(m, kMatchKeys[i].c_str(), path + ".match.",
                          [&](const YAML::Node& node, const std::string& s) {
                            if (auto err = glob_syntax_error(s); !err.empty()) {
                              v.fail(node, path + ".match." + kMatchKeys[i], std::string(err));
                              ok = false;
                            } else {
                              *fields[i] = s;
                            }
                          });
      }
    } else {
      ok = false;
    }
  }
  if (const YAML::Node p = n["per"]; p.IsDefined() && !p.IsNull()) {
    if (!p.IsSequence()) {
      v.fail(p, path + ".per", "must be a list of dimensions (" + join(kMatchKeys) + ")");
      ok = false;
    } else {
      for (std::size_t i = 0; i < p.size(); ++i) {
        const std::string item = path + ".per[" + std::to_string(i) + "]";
        auto s = v.string_value(p[i], item);
        if (!s) continue;
        auto d = parse_dimension(*s);
        if (!d) {
          v.fail(p[i], item, "\"" + *s + "\" is not a dimension (allowed: " + join(kMatchKeys) + ")");
          ok = false;
        } else if (std::find(r.per.begin(), r.per.end(), *d) != r.per.end()) {
          v.fail(p[i], item, "\"" + *s + "\" is listed twice");
          ok = false;
        } else {
          r.per.push_back(*d);
        }
      }
    }
  }
  v.optional_string(n, "unit", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (auto u = parse_limit_unit(s))
      r.unit = *u;
    else {
      v.fail(node, path + ".unit", "\"" + s + "\" is not a unit (allowed: " + join(kUnits) + ")");
      ok = false;
    }
  });
  if (!n["limit"].IsDefined()) {
    v.fail(n, path + ".limit", "required: a positive whole number (USD with up to 6 decimals for cost_usd)");
    ok = false;
  } else if (auto s = v.string_value(n["limit"], path + ".limit")) {
    auto value = r.unit == LimitUnit::CostUsd ? parse_usd(*s) : parse_whole(*s, 1, kMaxCount);
    if (!value || *value <= 0) {
      v.fail(n["limit"], path + ".limit",
             "\"" + *s + "\" is not a valid limit" +
                 (r.unit == LimitUnit::CostUsd
                      ? std::string(" (USD > 0, at most 6 decimals, e.g. 25.00)")
                      : " (a whole number from 1 to " + std::to_string(kMaxCount) + ")"));
      ok = false;
    } else {
      r.limit = *value;
    }
  }
  v.optional_string(n, "mode", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (s == "enforce")
      r.shadow = false;
    else if (s == "shadow")
      r.shadow = true;
    else {
      v.fail(node, path + ".mode", "\"" + s + "\" is not a mode (allowed: enforce, shadow)");
      ok = false;
    }
  });
  v.optional_string(n, "on_store_error", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (s == "deny")
      r.on_store_error = StoreErrorPolicy::Deny;
    else if (s == "allow")
      r.on_store_error = StoreErrorPolicy::Allow;
    else if (s == "local")
      r.on_store_error = StoreErrorPolicy::Local;
    else {
      v.fail(node, path + ".on_store_error",
             "\"" + s + "\" is not a store-error policy (allowed: deny, allow, local)");
      ok = false;
    }
  });
  r.line = n.Mark().line + 1;
  return ok;
}

void read_rules(Validator& v, const YAML::Node& list, std::set<std::string>& names, LimitsPolicy& out) {
  if (!list.IsSequence()) {
    v.fail(list, "limits.rules",
           "must be a list of {name, match, per, unit, limit, window, mode, on_store_error}");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "limits.rules[" + std::to_string(i) + "]";
    const YAML::Node n = list[i];
    if (!v.check_mapping(n, path,
                         {"name", "match", "per", "unit", "limit", "window", "mode", "on_store_error"}))
      continue;
    RateLimitRule r;
    bool ok = read_common(v, n, path, names, r);
    if (!n["window"].IsDefined()) {
      v.fail(n, path + ".window", "required: the GCRA window, e.g. 1s, 1m, 1h, 1d (1s to 31d)");
      ok = false;
    } else if (auto s = v.string_value(n["window"], path + ".window")) {
      if (auto w = parse_limit_window(*s))
        r.window = *w;
      else {
        v.fail(n["window"], path + ".window",
               "\"" + *s + "\" is not a window (1s to 31d, e.g. 1s, 1m, 1h, 1d)");
        ok = false;
      }
    }
    if (ok) out.rules.push_back(std::move(r));
  }
}

}  // namespace

void read_lease_modes(Validator& v, const YAML::Node& node, const std::string& path, LeaseModes& modes) {
  v.optional_string(node, "on_lease_exhausted", path + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s == "deny") modes.on_lease_exhausted = LeaseExhausted::Deny;
    else if (s == "wait") modes.on_lease_exhausted = LeaseExhausted::Wait;
    else if (s == "allow") modes.on_lease_exhausted = LeaseExhausted::Allow;
    else v.fail(n, path + ".on_lease_exhausted", "\"" + s + "\" is not deny, wait or allow");
  });
  v.optional_string(node, "on_control_unreachable", path + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s == "last_lease") modes.on_control_unreachable = ControlUnreachable::LastLease;
    else if (s == "safe") modes.on_control_unreachable = ControlUnreachable::Safe;
    else if (s == "deny") modes.on_control_unreachable = ControlUnreachable::Deny;
    else v.fail(n, path + ".on_control_unreachable", "\"" + s + "\" is not last_lease, safe or deny");
  });
  v.optional_string(node, "safe_allowance", path + ".", [&](const YAML::Node& n, const std::string& s) {
    if (auto amount = parse_whole(s, 0, 1'000'000'000'000))
      modes.safe_allowance = *amount;
    else
      v.fail(n, path + ".safe_allowance", "\"" + s + "\" is not a whole number from 0 to 10^12 (the budget's unit)");
  });
}

namespace {

void read_budgets(Validator& v, const YAML::Node& list, std::set<std::string>& names, LimitsPolicy& out) {
  if (!list.IsSequence()) {
    v.fail(list, "limits.budgets",
           "must be a list of {name, match, per, unit, limit, period, alerts, mode, on_store_error}");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "limits.budgets[" + std::to_string(i) + "]";
    const YAML::Node n = list[i];
    if (!v.check_mapping(n, path,
                         {"name", "match", "per", "unit", "limit", "period", "alerts", "mode", "on_store_error",
                          "on_lease_exhausted", "on_control_unreachable", "safe_allowance"}))
      continue;
    BudgetRule b;
    b.lease = out.leased;
    read_lease_modes(v, n, path, b.lease);
    if (out.ledger != LedgerMode::Leased)
      for (const char* key : {"on_lease_exhausted", "on_control_unreachable", "safe_allowance"})
        if (n[key].IsDefined()) v.fail(n[key], path + "." + key, "applies to ledger: leased only");
    bool ok = read_common(v, n, path, names, b);
    v.optional_string(n, "period", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s == "day")
        b.period = BudgetPeriod::Day;
      else if (s == "month")
        b.period = BudgetPeriod::Month;
      else {
        v.fail(node, path + ".period", "\"" + s + "\" is not a period (allowed: day, month; UTC calendar)");
        ok = false;
      }
    });
    if (const YAML::Node a = n["alerts"]; a.IsDefined() && !a.IsNull()) {
      b.alerts.clear();
      if (!a.IsSequence()) {
        v.fail(a, path + ".alerts",
               "must be a list of ascending percentages from 1 to 100, e.g. [50, 80, 100]");
        ok = false;
      } else {
        for (std::size_t k = 0; k < a.size(); ++k) {
          const std::string item = path + ".alerts[" + std::to_string(k) + "]";
          auto s = v.string_value(a[k], item);
          if (!s) continue;
          auto pct = parse_whole(*s, 1, 100);
          if (!pct || (!b.alerts.empty() && *pct <= b.alerts.back())) {
            v.fail(a[k], item,
                   "\"" + *s + "\" must be a percentage from 1 to 100, greater than the one before");
            ok = false;
          } else {
            b.alerts.push_back(static_cast<int>(*pct));
          }
        }
      }
    }
    if (ok) out.budgets.push_back(std::move(b));
  }
}

void read_redis(Validator& v, const YAML::Node& r, LimitsPolicy& out) {
  if (!v.check_mapping(r, "limits.redis", {"url", "timeout", "key_prefix", "local_fallback_max"})) return;
  v.optional_string(r, "url", "limits.redis.", [&](const YAML::Node& node, const std::string& s) {
    if (s.rfind("redis://", 0) != 0 || s.size() <= 8)
      v.fail(node, "limits.redis.url", "must be redis://[:password@]host:port[/db]");
    else
      out.redis.url = s;
  });
  v.duration(r, "timeout", "limits.redis.", out.redis.timeout);
  v.duration(r, "local_fallback_max", "limits.redis.", out.redis.local_fallback_max);
  v.optional_string(r, "key_prefix", "limits.redis.", [&](const YAML::Node& node, const std::string& s) {
    if (s.size() > 64 || s.find_first_of(" \t\r\n") != std::string::npos)
      v.fail(node, "limits.redis.key_prefix", "must be at most 64 characters without whitespace");
    else
      out.redis.key_prefix = s;
  });
}

void read_spend_log(Validator& v, const YAML::Node& s, const std::string& config_file, LimitsPolicy& out) {
  if (!v.check_mapping(s, "limits.spend_log", {"path", "flush_interval", "fsync", "on_error"})) return;
  v.optional_string(s, "path", "limits.spend_log.", [&](const YAML::Node&, const std::string& p) {
    std::filesystem::path file(p);
    if (file.is_relative()) file = std::filesystem::path(config_file).parent_path() / file;
    out.spend_log.path = file.string();
  });
  if (out.spend_log.path.empty())
    v.fail(s, "limits.spend_log.path", "required: the SQLite file of the spend log");
  v.duration(s, "flush_interval", "limits.spend_log.", out.spend_log.flush_interval);
  read_bool(v, s, "fsync", "limits.spend_log.", out.spend_log.fsync);
  v.optional_string(s, "on_error", "limits.spend_log.", [&](const YAML::Node& node, const std::string& e) {
    if (e == "allow")
      out.spend_log.on_error = SpendLogErrorPolicy::Allow;
    else if (e == "deny")
      out.spend_log.on_error = SpendLogErrorPolicy::Deny;
    else
      v.fail(node, "limits.spend_log.on_error", "\"" + e + "\" is not a spend-log fail mode (allowed: allow, deny)");
  });
}

void read_sessions(Validator& v, const YAML::Node& s, LimitsPolicy& out) {
  if (!v.check_mapping(s, "limits.sessions", {"context_guard", "context_windows"})) return;
  v.optional_string(
      s, "context_guard", "limits.sessions.", [&](const YAML::Node& node, const std::string& g) {
        if (g == "reject")
          out.sessions.context_guard = ContextGuard::Reject;
        else if (g == "warn")
          out.sessions.context_guard = ContextGuard::Warn;
        else if (g == "off")
          out.sessions.context_guard = ContextGuard::Off;
        else
          v.fail(node, "limits.sessions.context_guard", "\"" + g + "\" is not allowed (reject, warn, off)");
      });
  const YAML::Node w = s["context_windows"];
  if (w.IsDefined() && !w.IsNull()) {
    if (!w.IsMap()) {
      v.fail(w, "limits.sessions.context_windows",
             "must be a mapping of model glob to context window in tokens");
    } else {
      for (const auto& kv : w) {
        const std::string glob = kv.first.as<std::string>();
        const std::string path = "limits.sessions.context_windows." + glob;
        if (auto err = glob_syntax_error(glob); !err.empty()) {
          v.fail(kv.first, path, std::string(err));
          continue;
        }
        auto t = v.string_value(kv.second, path);
        if (!t) continue;
        auto tokens = parse_whole(*t, 1, 100'000'000);
        if (!tokens)
          v.fail(kv.second, path, "\"" + *t + "\" is not a token count (1 to 100000000)");
        else
          out.sessions.context_windows.push_back({glob, static_cast<uint64_t>(*tokens)});
      }
    }
  }
  if (out.sessions.context_guard != ContextGuard::Off && out.sessions.context_windows.empty())
    v.fail(s, "limits.sessions.context_windows",
           "required when context_guard is reject or warn: model glob -> tokens");
}

void read_fanout(Validator& v, const YAML::Node& f, LimitsPolicy& out) {
  if (!v.check_mapping(f, "limits.fanout", {"secret", "unit", "default_budget", "max_budget", "ttl"})) return;
  auto& o = out.fanout;
  v.optional_string(f, "secret", "limits.fanout.", [&](const YAML::Node& node, const std::string& s) {
    if (s.size() < 32)
      v.fail(node, "limits.fanout.secret", "must be at least 32 bytes (an HMAC-SHA256 key)");
    else
      o.secret = s;
  });
  if (o.secret.empty()) {
    if (!f["secret"].IsDefined())
      v.fail(f, "limits.fanout.secret", "required: the HMAC-SHA256 key (>= 32 bytes)");
    return;
  }
  o.enabled = true;
  v.optional_string(f, "unit", "limits.fanout.", [&](const YAML::Node& node, const std::string& s) {
    if (auto u = parse_limit_unit(s); u && *u != LimitUnit::Requests)
      o.unit = *u;
    else
      v.fail(node, "limits.fanout.unit",
             "\"" + s + "\" is not allowed (input_tokens, output_tokens, total_tokens, cost_usd)");
  });
  auto amount = [&](const char* key, int64_t& into) {
    v.optional_string(f, key, "limits.fanout.", [&](const YAML::Node& node, const std::string& s) {
      auto value = o.unit == LimitUnit::CostUsd ? parse_usd(s) : parse_whole(s, 0, kMaxCount);
      if (!value)
        v.fail(node, std::string("limits.fanout.") + key,
               "\"" + s + "\" is not an amount of the fan-out unit");
      else
        into = *value;
    });
  };
  amount("default_budget", o.default_budget);
  amount("max_budget", o.max_budget);
  v.duration(f, "ttl", "limits.fanout.", o.ttl);
  if (o.max_budget == 0) o.max_budget = o.default_budget;
  if (o.max_budget <= 0)
    v.fail(f, "limits.fanout.max_budget", "required: the largest budget a root request may get (> 0)");
  else if (o.default_budget > o.max_budget)
    v.fail(f, "limits.fanout.default_budget", "must not exceed max_budget");
}

}  // namespace

std::optional<int64_t> parse_usd(const std::string& text) { return parse_micro_usd(text, 1'000'000'000); }

const std::vector<std::string>& connection_limit_keys() {
  static const std::vector<std::string> keys = {"max_connections", "max_connections_per_peer",
                                                "max_requests_in_flight"};
  return keys;
}

void read_connection_limits(Validator& v, const YAML::Node& l, Limits& out) {
  constexpr uint64_t kMaxCount = 10'000'000;
  v.count(l, "max_connections", "limits.", 1, kMaxCount, out.max_connections);
  v.count(l, "max_connections_per_peer", "limits.", 0, kMaxCount, out.max_connections_per_peer);
  v.count(l, "max_requests_in_flight", "limits.", 1, kMaxCount, out.max_requests_in_flight);
}

const std::vector<std::string>& limits_policy_keys() {
  static const std::vector<std::string> keys = {"ledger", "leased",  "redis",    "spend_log", "default_max_tokens",
                                                "rules",  "budgets", "sessions", "fanout"};
  return keys;
}

void read_limits_policy(Validator& v, const YAML::Node& l, const std::string& config_file, GatewayConfig& c) {
  LimitsPolicy& out = c.limits_policy;
  v.optional_string(l, "ledger", "limits.", [&](const YAML::Node& node, const std::string& s) {
    if (s == "local")
      out.ledger = LedgerMode::Local;
    else if (s == "strict")
      out.ledger = LedgerMode::Strict;
    else if (s == "leased")
      out.ledger = LedgerMode::Leased;
    else
      v.fail(node, "limits.ledger", "\"" + s + "\" is not a ledger (allowed: local, strict, leased)");
  });
  if (const YAML::Node leased = l["leased"]; leased.IsDefined() && !leased.IsNull()) {
    if (out.ledger != LedgerMode::Leased)
      v.fail(leased, "limits.leased", "applies to ledger: leased only");
    else if (v.check_mapping(leased, "limits.leased", {"on_lease_exhausted", "on_control_unreachable", "safe_allowance"}))
      read_lease_modes(v, leased, "limits.leased", out.leased);
  }
  if (const YAML::Node r = l["redis"]; r.IsDefined() && !r.IsNull()) read_redis(v, r, out);
  if (out.ledger == LedgerMode::Strict && out.redis.url.empty())
    v.fail(l["ledger"], "limits.redis.url", "required when limits.ledger is strict: redis://host:port");
  if (const YAML::Node s = l["spend_log"]; s.IsDefined() && !s.IsNull())
    read_spend_log(v, s, config_file, out);
  v.optional_string(l, "default_max_tokens", "limits.", [&](const YAML::Node& node, const std::string& s) {
    if (auto n = parse_whole(s, 1, 10'000'000))
      out.default_max_tokens = static_cast<uint64_t>(*n);
    else
      v.fail(node, "limits.default_max_tokens", "\"" + s + "\" is not a token count (1 to 10000000)");
  });
  std::set<std::string> names;
  if (const YAML::Node r = l["rules"]; r.IsDefined() && !r.IsNull()) read_rules(v, r, names, out);
  if (const YAML::Node b = l["budgets"]; b.IsDefined() && !b.IsNull()) read_budgets(v, b, names, out);
  if (const YAML::Node s = l["sessions"]; s.IsDefined() && !s.IsNull()) read_sessions(v, s, out);
  if (const YAML::Node f = l["fanout"]; f.IsDefined() && !f.IsNull()) read_fanout(v, f, out);
}

}  // namespace tollway::config
