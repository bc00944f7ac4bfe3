// Snapshot: one validated configuration version with everything built from it (upstream endpoints, TLS
// contexts, the filter chain). Immutable and shared; requests keep the snapshot they started with.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/serving_config.h"
#include "http/upstream_pool.h"
#include "pipeline/chain.h"
#include "providers/resilience/load_balancer.h"
#include "tls/server_context.h"

namespace tollway::pipeline {

// An endpoint the gateway answers itself instead of proxying (token exchange, a JWKS document, ...): matched
// by exact path when no route matches; its handler fills ctx.reply and never talks to a provider.
struct LocalEndpoint {
  std::string path;
  uint64_t max_body = 64 * 1024;
  std::function<boost::asio::awaitable<void>(RequestCtx&)> handle;
};

// One provider's endpoints (same order as its config `endpoints`) and their load balancer.
struct ProviderUpstreams {
  std::vector<http::UpstreamEndpoint> endpoints;
  std::unique_ptr<providers::resilience::ProviderBalancer> balancer;
};

// A listener that serves the role's requests. Its TLS is built when the snapshot is prepared (null = plain);
// new connections take the context of the snapshot current when they are accepted, open ones keep theirs.
struct DataListener {
  std::string name;  // in metrics and logs: "api" (gateway); "outbound", "inbound" (sidecar)
  std::string key;   // its address's key path in the role's document, for errors: "gateway.listen"
  config::ListenAddress address{"127.0.0.1", 8080};
  std::shared_ptr<const tls::ServerTls> tls;
  // A forward proxy's listener: absolute-form and CONNECT request targets are accepted (http::ParseLimits).
  bool forward_proxy = false;
};

// What the engine reads from a snapshot to serve connections, whatever the role: listeners, HTTP limits and
// timeouts, and how long a response is read on for its usage after the client left.
struct ServingSettings {
  // At least one, in the role's order (a request's RequestCtx::listener indexes it); the command line's
  // --listen overrides the first. Names and addresses are fixed at start (a reload may change only the TLS).
  std::vector<DataListener> listeners;
  config::ListenAddress admin{"127.0.0.1", 9901};
  std::shared_ptr<const tls::ServerTls> admin_tls;  // null = plain HTTP
  int workers = 1;
  config::Limits limits;
  config::Timeouts timeouts;
  std::chrono::milliseconds drain_time{30'000};  // reading upstream on after the client left ...
  uint64_t drain_bytes = 8 * 1024 * 1024;        // ... and at most this many more bytes
};

// A role extends it with the document it was built from (gateway::GatewaySnapshot); the engine and the
// filters see only this.
struct Snapshot {
  virtual ~Snapshot() = default;

  std::string version;  // content hash of the configuration it was built from
  std::string source;   // where that configuration came from (a file path, "<embedded>")
  std::string source_version;  // the source's own name for that version (the control plane's), or ""
  ServingSettings serving;
  std::vector<ProviderUpstreams> upstreams;  // one per config provider, same index
  Chain chain;
  std::vector<LocalEndpoint> local_endpoints;
  uint64_t generation = 0;  // 1 for the first snapshot, +1 per applied reload
  std::chrono::system_clock::time_point loaded_at;
};

}  // namespace tollway::pipeline
