#include "sidecar/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "auth/config.h"
#include "config/validator.h"
#include "http/authority.h"
#include "sidecar/identity_rule.h"
#include "sidecar/trace_config.h"
#include "tls/node_identity_files.h"
#include "tls/spiffe_id.h"

namespace tollway::sidecar {
namespace {

using config::Validator;

// `tls:` either names the SVID's files or says `identity: node`: the SVID the node holds from the control plane's CA
// (tollway sidecar --identity-dir), its files read where the node keeps them.
void read_tls(Validator& v, const YAML::Node& tls, const YAML::Node& parent, SidecarConfig& c) {
  if (!tls.IsDefined())
    return v.fail(parent, "sidecar.tls", "required: cert_file, key_file and bundle_file, or identity: node");
  if (!v.check_mapping(tls, "sidecar.tls", {"cert_file", "key_file", "bundle_file", "identity"})) return;
  if (tls["identity"].IsDefined()) {
    for (const char* other : {"cert_file", "key_file", "bundle_file"})
      if (tls[other].IsDefined())
        v.fail(tls[other], std::string("sidecar.tls.") + other,
               "not with identity: node (the node's SVID, key and bundle are the files)");
    v.optional_string(tls, "identity", "sidecar.tls.", [&](const YAML::Node& node, const std::string& text) {
      if (text != "node") return v.fail(node, "sidecar.tls.identity", "\"" + text + "\" is not an identity (allowed: node)");
      c.node_identity = true;
      const auto dir = tls::declared_node_identity_dir();
      if (!dir) return;  // checked for another node, whose files are its own
      if (dir->empty()) return v.fail(node, "sidecar.tls.identity", "this node holds no identity: start it with --identity-dir");
      c.cert_file = tls::node_cert_path(*dir);
      c.key_file = tls::node_key_path(*dir);
      c.bundle_file = tls::node_bundle_path(*dir);
    });
    return;
  }
  for (auto [key, target] : {std::pair{"cert_file", &c.cert_file}, std::pair{"key_file", &c.key_file},
                             std::pair{"bundle_file", &c.bundle_file}}) {
    if (!tls[key].IsDefined()) v.fail(tls, std::string("sidecar.tls.") + key, "required");
    v.optional_string(tls, key, "sidecar.tls.",
                      [into = target](const YAML::Node&, const std::string& text) { *into = text; });
  }
}

// `sidecar.gateway` (optional): the gateway's address and the SPIFFE ID its certificate must carry.
void read_gateway(Validator& v, const YAML::Node& g, SidecarConfig& c) {
  if (!g.IsDefined() || g.IsNull() || !v.check_mapping(g, "sidecar.gateway", {"address", "spiffe_id"})) return;
  GatewayTarget target;
  for (const char* key : {"address", "spiffe_id"})
    if (!g[key].IsDefined()) v.fail(g, std::string("sidecar.gateway.") + key, "required");
  v.listen_address(g, "address", "sidecar.gateway.", target.address);
  if (g["address"].IsDefined() && target.address.port == 0)
    v.fail(g["address"], "sidecar.gateway.address", "needs a port (1-65535)");
  v.optional_string(g, "spiffe_id", "sidecar.gateway.", [&](const YAML::Node& node, const std::string& text) {
    std::string error;
    auto id = tls::SpiffeId::parse(text, &error);
    if (!id) return v.fail(node, "sidecar.gateway.spiffe_id", "\"" + text + "\" is not a SPIFFE ID: " + error);
    target.spiffe_id = id->text();
  });
  c.gateway = std::move(target);
}

void read_sidecar_section(Validator& v, const YAML::Node& root, SidecarConfig& c) {
  const YAML::Node s = root["sidecar"];
  if (!s.IsDefined()) {
    v.fail(root, "sidecar", "required: this agent's identity, listeners and local agent");
    return;
  }
  if (!v.check_mapping(s, "sidecar",
                       {"spiffe_id", "outbound", "inbound", "admin", "agent", "workers", "tls", "gateway"}))
    return;
  if (!s["spiffe_id"].IsDefined()) v.fail(s, "sidecar.spiffe_id", "required: this agent's SPIFFE ID");
  v.optional_string(s, "spiffe_id", "sidecar.", [&](const YAML::Node& node, const std::string& text) {
    std::string error;
    auto id = tls::SpiffeId::parse(text, &error);
    if (!id) return v.fail(node, "sidecar.spiffe_id", "\"" + text + "\" is not a SPIFFE ID: " + error);
    c.spiffe_id = id->text();
    c.trust_domain = std::string(id->trust_domain());
  });
  v.listen_address(s, "outbound", "sidecar.", c.outbound);
  v.listen_address(s, "inbound", "sidecar.", c.inbound);
  v.listen_address(s, "admin", "sidecar.", c.admin);
  if (!s["agent"].IsDefined()) v.fail(s, "sidecar.agent", "required: the local agent's HOST:PORT");
  v.listen_address(s, "agent", "sidecar.", c.agent);
  if (s["agent"].IsDefined() && c.agent.port == 0) v.fail(s["agent"], "sidecar.agent", "needs a port (1-65535)");
  v.optional_string(s, "workers", "sidecar.", [&](const YAML::Node& node, const std::string& text) {
    if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(text) < 1 || std::stoi(text) > 64)
      return v.fail(node, "sidecar.workers", "\"" + text + "\" is not a worker count (1-64)");
    c.workers = std::stoi(text);
  });
  read_gateway(v, s["gateway"], c);
  read_tls(v, s["tls"], s, c);
}

void read_peers(Validator& v, const YAML::Node& root, SidecarConfig& c) {
  const YAML::Node peers = root["peers"];
  if (!peers.IsDefined() || peers.IsNull()) return;
  if (!peers.IsMap()) return v.fail(peers, "peers", "must be a mapping of peer name -> {address, spiffe_id}");
  for (const auto& kv : peers) {
    PeerConfig p;
    p.name = kv.first.as<std::string>();
    p.line = kv.first.Mark().line + 1;
    const std::string path = "peers." + p.name;
    std::string_view why;
    const auto authority = http::parse_authority(p.name, why);
    if (!authority || authority->port != 0) v.fail(kv.first, path, "a peer name is a host name without a port");
    if (c.find_peer(p.name) != nullptr) v.fail(kv.first, path, "duplicate peer");
    if (p.name == kGatewayDestination || p.name == kLocalDestination || p.name == kEgressDestination)
      v.fail(kv.first, path, "\"" + p.name + "\" is reserved (gateway, local and egress name other destinations)");
    if (!v.check_mapping(kv.second, path, {"address", "spiffe_id"})) continue;
    for (const char* key : {"address", "spiffe_id"})
      if (!kv.second[key].IsDefined()) v.fail(kv.second, path + "." + key, "required");
    v.listen_address(kv.second, "address", path + ".", p.address);
    v.optional_string(kv.second, "spiffe_id", path + ".", [&](const YAML::Node& node, const std::string& text) {
      std::string error;
      auto id = tls::SpiffeId::parse(text, &error);
      if (!id) return v.fail(node, path + ".spiffe_id", "\"" + text + "\" is not a SPIFFE ID: " + error);
      if (!c.trust_domain.empty() && !id->member_of(c.trust_domain))
        return v.fail(node, path + ".spiffe_id", "is not in this sidecar's trust domain " + c.trust_domain);
      p.spiffe_id = id->text();
    });
    c.peers.push_back(std::move(p));
  }
}

void read_authorization(Validator& v, const YAML::Node& root, SidecarConfig& c) {
  const YAML::Node rules = root["authorization"];
  if (!rules.IsDefined() || rules.IsNull()) return;
  if (!rules.IsSequence()) return v.fail(rules, "authorization", "must be a list of rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "authorization[" + std::to_string(i) + "]";
    const YAML::Node r = rules[i];
    if (!v.check_mapping(r, path, {"action", "from", "methods", "paths", "mode"})) continue;
    AuthorizationRule rule;
    rule.line = r.Mark().line + 1;
    IdentityRuleHead head = read_identity_rule_head(v, r, path);
    rule.action = head.deny ? AuthorizationRule::Action::Deny : AuthorizationRule::Action::Allow;
    rule.audit = head.audit;
    rule.from = std::move(head.from);
    rule.methods = config::read_string_list(v, r["methods"], path + ".methods");
    rule.path_prefixes = config::read_string_list(v, r["paths"], path + ".paths");
    for (std::size_t j = 0; j < rule.path_prefixes.size(); ++j)
      if (!rule.path_prefixes[j].starts_with('/'))
        v.fail(r["paths"][j], path + ".paths[" + std::to_string(j) + "]", "a path prefix starts with '/'");
    c.authorization.push_back(std::move(rule));
  }
}

void read_egress(Validator& v, const YAML::Node& root, SidecarConfig& c) {
  const YAML::Node egress = root["egress"];
  if (!egress.IsDefined() || egress.IsNull()) return;
  if (!v.check_mapping(egress, "egress", {"allow"})) return;
  const YAML::Node allow = egress["allow"];
  const std::vector<std::string> entries = config::read_string_list(v, allow, "egress.allow");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string path = "egress.allow[" + std::to_string(i) + "]";
    EgressAllow entry;
    entry.line = allow[i].Mark().line + 1;
    entry.wildcard = entries[i].starts_with("*.");
    const std::string_view text = std::string_view(entries[i]).substr(entry.wildcard ? 2 : 0);
    std::string_view why;
    const auto authority = http::parse_authority(text, why);
    if (!authority) {
      v.fail(allow[i], path, "\"" + entries[i] + "\" is not HOST:PORT or *.SUFFIX:PORT: " + std::string(why));
      continue;
    }
    if (authority->port == 0) {
      v.fail(allow[i], path, "\"" + entries[i] + "\" names no port (HOST:PORT, e.g. api.example.com:443)");
      continue;
    }
    entry.host = http::lowercase_host(authority->host);
    if (entry.wildcard) {
      if (entry.host.find('.') == std::string::npos || entry.host.find(':') != std::string::npos ||
          std::isdigit(static_cast<unsigned char>(entry.host.back()))) {
        v.fail(allow[i], path, "\"" + entries[i] + "\": a wildcard covers the names under a domain name of two or more labels");
        continue;
      }
      entry.host.insert(0, ".");
    }
    entry.port = authority->port;
    c.egress_allow.push_back(std::move(entry));
  }
}

}  // namespace

bool EgressAllow::matches(std::string_view name, uint16_t p) const {
  if (p != port) return false;
  if (!wildcard) return name == host;
  return name.size() > host.size() && name.ends_with(host);
}

const EgressAllow* SidecarConfig::find_egress(std::string_view name, uint16_t p) const {
  for (const auto& entry : egress_allow)
    if (entry.matches(name, p)) return &entry;
  return nullptr;
}

const PeerConfig* SidecarConfig::find_peer(std::string_view name) const {
  // Host names compare case-insensitively (RFC 4343): http://Agent-B/ is the peer agent-b.
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const auto& p : peers)
    if (same(p.name, name)) return &p;
  return nullptr;
}

SidecarLoadResult parse_sidecar_config(std::string_view yaml_text, const std::string& file_name,
                                       const config::EnvLookup& env) {
  SidecarLoadResult result;
  Validator v(file_name, env);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    v.fail_at(e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    result.errors = std::move(v.errors());
    return result;
  }
  SidecarConfig c;
  if (v.check_mapping(root, "", {"version", "sidecar", "peers", "authorization", "egress", "limits", "telemetry",
                                  "orphans", "max_hops", "fanout", "mcp", "a2a"})) {
    if (!root["version"].IsDefined()) {
      v.fail(root, "version", "required: the schema version, 1");
    } else if (auto s = v.string_value(root["version"], "version"); s && *s != "1") {
      v.fail(root["version"], "version", "unsupported schema version \"" + *s + "\" (supported: 1)");
    }
    try {
      read_sidecar_section(v, root, c);
      read_peers(v, root, c);
      read_authorization(v, root, c);
      read_egress(v, root, c);
      std::vector<std::string> peer_names;
      for (const auto& p : c.peers) peer_names.push_back(p.name);
      read_mcp(v, root["mcp"], peer_names, c.mcp);
      read_a2a(v, root["a2a"], c.a2a);
      for (const auto& path : c.a2a.paths)
        if (c.mcp.enabled && std::find(c.mcp.paths.begin(), c.mcp.paths.end(), path) != c.mcp.paths.end())
          v.fail(root["a2a"], "a2a.paths", "\"" + path + "\" is also an MCP path (mcp.paths): a path speaks one protocol");
      read_local_limits(v, root["limits"], peer_names, c.gateway.has_value(), c.mcp.enabled, c.a2a.enabled,
                        c.local_limits, c.limits);
      read_trace_sections(v, root, c);
    } catch (const YAML::Exception& e) {
      v.fail_at(e.mark.line + 1, "", std::string("unexpected YAML structure: ") + e.what());
    }
  }
  if (v.errors().empty()) {
    c.source = file_name;
    c.version = config::document_version(yaml_text);
    result.config = std::move(c);
  }
  result.errors = std::move(v.errors());
  return result;
}

}  // namespace tollway::sidecar
