// SidecarConfig: the east-west sidecar's document (`tollway sidecar --config FILE`): who this agent is, its two
// listeners (outbound forward proxy on loopback, inbound mTLS), the local agent it fronts, the peers it may call
// (the service directory: name -> address and the SPIFFE ID the peer must present), the authorization rules of
// its inbound side, the hosts its agent may open CONNECT tunnels to (egress) and, when its agent serves MCP, the
// tool-level rules (mcp), and when it serves A2A, the skill-level rules (a2a). Parsing collects every error with file:line; it never returns a partially valid document and
// never logs a value it reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "config/loader.h"
#include "config/serving_config.h"
#include "sidecar/a2a_config.h"
#include "sidecar/limit_config.h"
#include "sidecar/mcp_config.h"
#include "tls/server_context.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

// One entry of the service directory: `http://NAME/…` from the agent goes to ADDRESS, whose certificate must carry
// SPIFFE_ID.
struct PeerConfig {
  std::string name;
  config::ListenAddress address;
  std::string spiffe_id;
  int line = 0;
};

// One inbound authorization rule. `from` holds SPIFFE IDs, exact or with `*` path segments (tls/spiffe_id_pattern.h);
// methods and path prefixes empty = any.
struct AuthorizationRule {
  enum class Action { Allow, Deny } action = Action::Allow;
  std::vector<tls::SpiffeIdPattern> from;
  std::vector<std::string> methods;
  std::vector<std::string> path_prefixes;
  bool audit = false;  // log what it would decide, decide nothing
  int line = 0;
};

// `sidecar.gateway`: where the agent's LLM calls (origin-form requests on the outbound listener) go, over mTLS with
// this agent's SVID; the gateway's certificate must carry SPIFFE_ID.
struct GatewayTarget {
  config::ListenAddress address;
  std::string spiffe_id;
};

// One `egress.allow` entry: a CONNECT tunnel the agent may open, to HOST:PORT exactly or, written
// `*.SUFFIX:PORT`, to any name under SUFFIX (not SUFFIX itself) at PORT.
struct EgressAllow {
  std::string host;  // lowercase; for a wildcard, the suffix with its leading dot (".example.com")
  bool wildcard = false;
  uint16_t port = 0;
  int line = 0;
  // `host` lowercase, as PeerRoute passes it.
  bool matches(std::string_view host, uint16_t port) const;
};

struct SidecarConfig {
  std::string version;  // resolved version (hash of the document and the files it names)
  std::string source;
  std::string spiffe_id;     // this agent's identity; its certificate must carry it
  std::string trust_domain;  // of spiffe_id: peers must be in it
  config::ListenAddress outbound{"127.0.0.1", 15001};
  config::ListenAddress inbound{"127.0.0.1", 15006};
  config::ListenAddress admin{"127.0.0.1", 15000};
  config::ListenAddress agent;  // the local agent, plain HTTP on loopback
  int workers = 1;
  // The SVID presented on both sides, its key and the trust bundle that verifies peers. With `identity: node` they
  // are the node's files (tls/node_identity_files.h), and empty when the document is checked for another node.
  std::string cert_file, key_file, bundle_file;
  bool node_identity = false;
  std::vector<PeerConfig> peers;
  std::vector<AuthorizationRule> authorization;
  std::optional<GatewayTarget> gateway;
  std::vector<EgressAllow> egress_allow;  // empty: every CONNECT is refused
  LocalLimitsConfig local_limits;  // the document's `limits:` section
  McpConfig mcp;                   // the document's `mcp:` section (the local agent as an MCP server)
  A2aConfig a2a;                   // the document's `a2a:` section (the local agent as an A2A server)
  config::Limits limits;           // HTTP size limits (defaults) and the process bounds from `limits:`
  config::Timeouts timeouts;
  // Tracing and runaway protection (sidecar/trace_config.h).
  std::optional<config::TelemetryConfig> telemetry;  // the gateway's `telemetry` section; none: no spans exported
  enum class Orphans { Log, Repair } orphans = Orphans::Log;
  int max_hops = 16;
  std::string fanout_secret;  // `fanout.secret`: verifies tollway-fanout baggage members; "" = not verified

  // The peer named `name`, compared as host names are (ASCII case-insensitively); null when none.
  const PeerConfig* find_peer(std::string_view name) const;
  // The egress.allow entry that lets a CONNECT to `host` (lowercase) : `port` through, or null.
  const EgressAllow* find_egress(std::string_view host, uint16_t port) const;
};

struct SidecarLoadResult {
  std::optional<SidecarConfig> config;
  std::vector<config::ConfigError> errors;
};

SidecarLoadResult parse_sidecar_config(std::string_view yaml_text, const std::string& file_name,
                                       const config::EnvLookup& env = config::process_environment());

}  // namespace tollway::sidecar
