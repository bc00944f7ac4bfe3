// LocalLimitsConfig: the `limits:` section of the sidecar document — rate limits (`rules`, per window) and budgets
// (`budgets`, per UTC calendar day or month) on calls through this sidecar, by calling identity (`from`: SPIFFE IDs
// or patterns), destination (`to`: a peer name, `gateway` for the agent's LLM calls, `local` for inbound calls to
// this agent) and, for the local agent's MCP server or A2A agent, tool (`tools`) or skill (`skills`), counted in requests or, for LLM calls, tokens. Every decision is made in process: rules always per
// process, budgets per process (`ledger: local`) or against a lease of a budget the fleet shares (`ledger: leased`,
// leases from the control plane). Parsing only validates and converts, with file:line; it never accepts a ledger
// that would wait on the network for a decision and never logs a value it reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/limits_config.h"
#include "config/validator.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

// The destinations a rule's `to` names besides peers.
inline constexpr std::string_view kGatewayDestination = "gateway";  // an LLM call (origin-form, outbound)
inline constexpr std::string_view kLocalDestination = "local";      // an inbound call to this sidecar's agent
inline constexpr std::string_view kEgressDestination = "egress";  // a CONNECT tunnel (egress.allow)

// One rule or budget.
struct LocalLimitRule {
  std::string name;
  bool budget = false;  // from `budgets:`: counted per calendar `period`, not per `window`
  std::vector<tls::SpiffeIdPattern> from;  // empty: any caller
  std::vector<std::string> to;             // destination names; empty: any (token rules: the gateway only)
  // MCP tools (`match.tools`) or A2A skills (`match.skills`), glob patterns: the rule counts each tools/call of a
  // matching tool that reaches the local agent's MCP server (sidecar/mcp_config.h), or each A2A message naming a
  // matching skill that reaches its A2A agent (sidecar/a2a_config.h), and nothing else. Calls: the rule counts
  // calls, not names.
  enum class Named { Calls, Tools, Skills } named = Named::Calls;
  std::vector<std::string> names;
  bool per_from = false;                   // one counter per caller
  bool per_to = false;                     // one counter per destination
  bool per_name = false;                   // one counter per tool or skill (`per: [tool]` / `per: [skill]`)
  config::LimitUnit unit = config::LimitUnit::Requests;  // never CostUsd
  int64_t limit = 0;
  std::chrono::milliseconds window{60'000};  // rules
  config::BudgetPeriod period = config::BudgetPeriod::Day;  // budgets
  config::LeaseModes lease;  // budgets under ledger: leased (limits.leased unless the budget sets its own)
  bool shadow = false;  // mode: shadow logs and counts what it would deny, denies nothing
  int line = 0;
  bool counts_tokens() const { return unit != config::LimitUnit::Requests; }
};

struct LocalLimitsConfig {
  uint64_t default_max_tokens = 4096;  // reserved for output when an LLM call sets no max_tokens
  bool leased = false;                 // `ledger: leased`: budgets are shares of a fleet-wide budget
  std::vector<LocalLimitRule> rules;   // `rules:` then `budgets:`, names unique across both
  bool has_budgets() const;
};

// Reads `limits:` (absent or null: no rules, no budgets). `peer_names`: the document's peers; `has_gateway`: sidecar.gateway
// is set. A `to` naming neither, or naming `gateway` / `local` when a peer has that name, is an error.
// `has_mcp` / `has_a2a`: the document's agent serves MCP / A2A (match.tools / match.skills need it). The process
// bounds the gateway has too (max_connections, max_connections_per_peer, max_requests_in_flight) go to `serving`.
void read_local_limits(config::Validator& v, const YAML::Node& node, const std::vector<std::string>& peer_names,
                       bool has_gateway, bool has_mcp, bool has_a2a, LocalLimitsConfig& out,
                       config::Limits& serving);

}  // namespace tollway::sidecar
