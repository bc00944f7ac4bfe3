// A policy directory written into a fresh temp directory for one test, removed afterwards, and the loaders' own
// checks (config::parse_gateway_config, sidecar::parse_sidecar_config, by the node's role) as the document
// check, so these tests need no role's prepare.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.h"
#include "control/policy_check.h"
#include "sidecar/config.h"

namespace tollway::control::testing {

class PolicyDir {
 public:
  PolicyDir() {
    char tmpl[] = "/tmp/tollway-policy-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~PolicyDir() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return dir_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(file(name)).parent_path());
    std::ofstream(file(name), std::ios::trunc) << text;
  }

 private:
  std::string dir_;
};

inline const char* kBase = "version: 1\ngateway:\n  workers: 1\n";
inline const char* kProviders = R"(# providers and what routes to them
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:9
    api_key: sk-test
models:
  - match: "gpt-*"
    provider: openai
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
)";
// The sha256 of "token-a" and "token-b".
inline const char* kNodes = R"(nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8
  gw-b:
    labels: {role: gateway, zone: b}
    token_sha256: 49e2bb7eab54cf09b409ffafd3fa8a8a955a60eb972faacaefbed3dbd3207132
)";

// A mesh of two sidecar nodes beside the gateways: their shared sections under sidecars/, one group each for what
// differs (the identity and the local agent).
inline const char* kSidecarShared = R"(version: 1
peers:
  agent-b: {address: 127.0.0.1:15106, spiffe_id: spiffe://example.org/ns/prod/sa/agent-b}
)";
inline const char* kNodesWithSidecars = R"(nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: a70bf50e531ce1a817561f2f5d5b6645d4e806becf58ccc5e8cf6b8045a090a8
  agent-a:
    role: sidecar
    labels: {app: agent-a}
    token_sha256: 49e2bb7eab54cf09b409ffafd3fa8a8a955a60eb972faacaefbed3dbd3207132
)";
inline const char* kAgentAGroup = R"(selector:
  app: agent-a
sections:
  sidecar:
    spiffe_id: spiffe://example.org/ns/prod/sa/agent-a
    agent: 127.0.0.1:8001
    tls: {identity: node}
)";

inline DocumentVerdict loader_check(NodeRole role, const std::string& bytes, const std::string& origin) {
  const auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  DocumentVerdict v;
  if (role == NodeRole::Sidecar) {
    auto r = sidecar::parse_sidecar_config(bytes, origin, no_env);
    v.ok = r.config.has_value();
    for (const auto& e : r.errors) v.errors.push_back(e.to_string());
    return v;
  }
  auto r = config::parse_gateway_config(bytes, origin, no_env);
  v.ok = r.config.has_value();
  for (const auto& e : r.errors) v.errors.push_back(e.to_string());
  for (const auto& w : r.warnings) v.warnings.push_back(w.to_string());
  return v;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace tollway::control::testing
