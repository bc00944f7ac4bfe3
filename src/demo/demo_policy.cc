#include "demo/demo_policy.h"

#include <filesystem>
#include <fstream>

#include "demo/agents.h"

namespace tollway::demo {

namespace {

namespace fs = std::filesystem;

std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

bool write_file(const fs::path& path, const std::string& text, std::string& error) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    error = "cannot write " + path.string();
    return false;
  }
  return true;
}

std::string telemetry_section(const DemoTopology& t, std::string_view service) {
  if (t.otlp_endpoint.empty()) return {};
  return "telemetry:\n  service_name: " + std::string(service) + "\n  tracing: {sample_ratio: 1.0}\n"
         "  otlp: {endpoint: \"" + t.otlp_endpoint + "\", identity: node, traces_interval: 1s}\n";
}

std::string gateway_document(const DemoTopology& t) {
  std::string doc =
      "version: 1\n"
      "gateway:\n  workers: 1\n  tls: {identity: node}\n"
      "timeouts: {upstream_connect: 1s, upstream_total: 15s, drain: 2s}\n"
      "providers:\n  mock-llm:\n    api: openai\n    base_url: http://" + loopback(t.provider_port) + "\n"
      "    api_key: sk-demo-mock-provider-key\n"
      "routes:\n  - {path: /v1/chat/completions, api: openai, provider: mock-llm}\n"
      "models:\n  - {match: \"gpt-*\", provider: mock-llm}\n"
      "pricing:\n  models:\n    - {match: \"gpt-4o-mini*\", input: \"0.15\", output: \"0.60\"}\n"
      "auth:\n  admin_token: \"" + t.gateway_admin_token + "\"\n  spiffe:\n    callers:\n"
      "      - {id: " + demo_spiffe_id(kOrchestrator) + ", tenant: acme, agent_group: planners}\n"
      "      - {id: " + demo_spiffe_id(kRetrieval) + ", tenant: acme, agent_group: workers}\n"
      "      - {id: " + demo_spiffe_id(kTools) + ", tenant: initech, agent_group: workers}\n"
      "limits:\n";
  if (t.redis_port) doc += "  ledger: strict\n  redis: {url: \"redis://" + loopback(*t.redis_port) + "\"}\n";
  else doc += "  ledger: local\n";
  doc += "  spend_log: {path: \"" + (fs::path(t.work_dir) / "gateway-spend.db").string() + "\", fsync: false}\n"
         "  budgets:\n"
         "    - {name: tenant-day, per: [tenant], unit: total_tokens, limit: " + std::to_string(kTenantDailyTokens) +
         ", period: day}\n"
         "    - {name: initech-day, match: {tenant: initech}, unit: total_tokens, limit: " +
         std::to_string(kInitechDailyTokens) + ", period: day}\n";
  return doc + telemetry_section(t, "gateway");
}

std::string sidecars_shared(const DemoTopology& t) {
  std::string doc = "version: 1\npeers:\n";
  for (const char* agent : kAgentNames)
    doc += "  " + std::string(agent) + ": {address: " + loopback(t.inbound_ports.find(agent)->second) +
           ", spiffe_id: " + demo_spiffe_id(agent) + "}\n";
  return doc + "orphans: repair\n";
}

// What differs per agent: its own sidecar section, who may call it, its limits (the leased mesh budget, and on
// retrieval a rate limit per caller).
std::string sidecar_group(const DemoTopology& t, std::string_view agent) {
  std::string doc = "selector:\n  app: " + std::string(agent) + "\nsections:\n  sidecar:\n"
                    "    spiffe_id: " + demo_spiffe_id(agent) + "\n"
                    "    outbound: 127.0.0.1:0\n"
                    "    inbound: " + loopback(t.inbound_ports.find(agent)->second) + "\n"
                    "    agent: " + loopback(t.agent_ports.find(agent)->second) + "\n"
                    "    tls: {identity: node}\n"
                    "    gateway: {address: " + loopback(t.gateway_port) + ", spiffe_id: " +
                    demo_spiffe_id(kGatewayNode) + "}\n"
                    "  authorization:\n";
  if (agent == kOrchestrator) doc += "    - {action: deny, from: [\"spiffe://" + std::string(kTrustDomain) + "/ns/demo/sa/*\"]}\n";
  else doc += "    - {action: allow, from: [" + demo_spiffe_id(kOrchestrator) + "], methods: [POST], paths: [" +
              (agent == kRetrieval ? "/search" : "/run") + "]}\n";
  doc += "  limits:\n    ledger: leased\n";
  if (agent == kRetrieval)
    doc += "    rules:\n      - {name: searches-per-caller, match: {to: local}, per: [from], unit: requests, limit: 12, "
           "window: 10s}\n";
  doc += "    budgets:\n      - {name: mesh-llm-tokens, match: {to: gateway}, unit: total_tokens, limit: " +
         std::to_string(t.mesh_budget_tokens) + ", period: day, on_lease_exhausted: " + t.mesh_on_lease_exhausted +
         "}\n";
  const std::string telemetry = telemetry_section(t, std::string(agent) + "-sidecar");
  if (!telemetry.empty()) {
    // Indented under `sections:`.
    doc += "  telemetry:\n";
    for (std::size_t start = telemetry.find('\n') + 1; start < telemetry.size();) {
      const std::size_t end = telemetry.find('\n', start);
      doc += "  " + telemetry.substr(start, end - start + 1);
      start = end + 1;
    }
  }
  return doc;
}

std::string nodes_document() {
  std::string doc = "nodes:\n";
  // Each node authenticates by its certificate alone: its SPIFFE ID, no bootstrap token.
  doc += "  " + std::string(kGatewayNode) + ":\n    labels: {app: gateway}\n    spiffe_id: " +
         demo_spiffe_id(kGatewayNode) + "\n";
  for (const char* agent : kAgentNames)
    doc += "  " + std::string(agent) + ":\n    role: sidecar\n    labels: {app: " + agent + "}\n    spiffe_id: " +
           demo_spiffe_id(agent) + "\n";
  return doc;
}

}  // namespace

std::string demo_spiffe_id(std::string_view name) {
  return "spiffe://" + std::string(kTrustDomain) + "/ns/demo/sa/" + std::string(name);
}

bool write_demo_policy(const DemoTopology& t, std::string& error) {
  const fs::path dir(t.policy_dir);
  if (!write_file(dir / "gateway.yaml", gateway_document(t), error)) return false;
  if (!write_file(dir / "sidecars" / "mesh.yaml", sidecars_shared(t), error)) return false;
  for (const char* agent : kAgentNames)
    if (!write_file(dir / "groups" / (std::string(agent) + ".yaml"), sidecar_group(t, agent), error)) return false;
  return write_file(dir / "nodes.yaml", nodes_document(), error);
}

}  // namespace tollway::demo
