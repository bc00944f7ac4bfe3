// DemoPolicy: the policy directory `tollway demo` publishes through its control plane — one gateway and three
// sidecars (orchestrator, retrieval, tools) in the trust domain demo.tollway, two tenants, and limits that the
// scripted workload runs into: authorization (tools may not call the orchestrator), a local rate limit on
// retrieval, a small daily token budget for tenant initech on the gateway (strict ledger in Redis when a Redis
// runs, else local), and a leased token budget the three sidecars share. It writes files only; it never starts
// anything, and it holds only hashes of the node tokens.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tollway::demo {

inline constexpr const char* kTrustDomain = "demo.tollway";
inline constexpr const char* kGatewayNode = "gateway";
inline constexpr const char* kModel = "gpt-4o-mini";
inline constexpr int64_t kInitechDailyTokens = 700;
inline constexpr int64_t kMeshDailyTokens = 200000;  // the default of --mesh-budget
inline constexpr int64_t kTenantDailyTokens = 100000;

// spiffe://demo.tollway/ns/demo/sa/NAME
std::string demo_spiffe_id(std::string_view name);

struct DemoTopology {
  std::string policy_dir;       // written here (created)
  std::string work_dir;         // the spend log goes here
  uint16_t provider_port = 0;   // the mock provider
  uint16_t gateway_port = 0;    // the gateway's mTLS API listener
  std::map<std::string, uint16_t, std::less<>> agent_ports;    // each agent's own server
  std::map<std::string, uint16_t, std::less<>> inbound_ports;  // each sidecar's inbound (mTLS) listener
  std::string gateway_admin_token;
  std::optional<uint16_t> redis_port;  // set: the gateway's ledger is strict
  std::string otlp_endpoint;           // the control plane: nodes export their spans there with their SVIDs
  int64_t mesh_budget_tokens = kMeshDailyTokens;      // the leased mesh-llm-tokens budget's daily limit
  std::string mesh_on_lease_exhausted = "wait";       // its on_lease_exhausted: wait, deny or allow
};

// Writes the policy; false with `error` set when a file cannot be written.
bool write_demo_policy(const DemoTopology& topology, std::string& error);

}  // namespace tollway::demo
