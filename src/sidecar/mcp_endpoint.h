// McpEndpoint: one MCP URL for many MCP servers (`mcp.endpoint`). The local agent's MCP client connects to
// http://OUTBOUND/PATH (origin form on the outbound listener); the sidecar answers it as an MCP server whose session
// is one session with each upstream server (peers, reached over mTLS with their SPIFFE IDs checked). initialize and
// notifications go to every upstream; tools/list and prompts/list are the union of the upstreams' lists with names
// prefixed SERVER_ (every page read), resources/list and resources/templates/list the union as they are; tools/call
// and prompts/get go to the server their prefix names with it removed, resources/read, subscribe and unsubscribe to
// the server that listed the URI. Each upstream's own sidecar authorizes and filters by this agent's identity, so
// the union holds only what this agent may use. Every operation gets a CLIENT span whose context the upstream
// receives, and mcp.client.operation.duration. It never forwards a malformed message, never routes a name no
// server owns, never answers for a server it could not reach (a JSON-RPC error names it), and never streams: every
// answer is application/json; GET (a server-to-client stream) is 405.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/filter.h"
#include "sidecar/config.h"
#include "sidecar/filters.h"
#include "sidecar/mcp_filter.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// The endpoint's sessions across snapshots: per session, the upstream session ids (same order as the endpoint's
// servers when it was opened) and which server listed each resource URI. Idle sessions expire.
class McpEndpointSessions {
 public:
  struct Session {
    std::vector<std::string> server_names;
    std::vector<std::string> upstream_ids;  // "" when that server runs without sessions
    std::string protocol_version;
    std::unordered_map<std::string, std::size_t> resource_owner;  // URI -> index into server_names
  };
  std::string open(Session session);
  // A copy of the session (its idle time restarted), or none.
  std::optional<Session> find(const std::string& id);
  void remember_resources(const std::string& id, const std::vector<std::pair<std::string, std::size_t>>& owners);
  void close(const std::string& id);

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point used;
  };
  void expire(std::chrono::steady_clock::time_point now);
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> sessions_;
};

class McpEndpoint final : public pipeline::Filter {
 public:
  // `upstreams`: the snapshot's peer endpoints (same index as config->peers), owned by the snapshot.
  McpEndpoint(std::shared_ptr<const SidecarConfig> config, const SidecarUpstreams& upstreams,
              McpEndpointSessions& sessions, mcp::McpRuntime& runtime)
      : config_(std::move(config)), upstreams_(upstreams), sessions_(sessions), runtime_(runtime) {}
  std::string_view name() const override { return "mcp_endpoint"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  void log(const pipeline::RequestCtx& ctx) override;

 private:
  struct Exchange;  // one client request being answered (mcp_endpoint.cc)
  std::shared_ptr<const SidecarConfig> config_;
  const SidecarUpstreams& upstreams_;
  McpEndpointSessions& sessions_;
  mcp::McpRuntime& runtime_;
};

}  // namespace tollway::sidecar
