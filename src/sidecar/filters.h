// The sidecar's filters. InboundAuthorization decides, from the head alone, whether the peer sidecar's verified
// SPIFFE ID may make this call to the local agent (deny rules first, then allow; once any allow rule exists the
// default is deny; audit rules only log). PeerRoute sends an outbound call to the peer its authority names, or an
// inbound call to the local agent, and tells the agent who called; a CONNECT becomes a tunnel only to a host
// egress.allow names, and every CONNECT gets a log line. Neither ever forwards a call whose caller or
// destination it could not establish.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "http/upstream_pool.h"
#include "pipeline/filter.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// Which of the sidecar's listeners a request came in on (its index in ServingSettings::listeners).
inline constexpr std::size_t kOutboundListener = 0;
inline constexpr std::size_t kInboundListener = 1;

// The header the local agent reads its caller's SPIFFE ID from; whatever a caller sent under it is dropped.
inline constexpr std::string_view kCallerHeader = "x-tollway-caller-spiffe-id";

class InboundAuthorization final : public pipeline::Filter {
 public:
  InboundAuthorization(std::vector<AuthorizationRule> rules, std::string own_spiffe_id)
      : rules_(std::move(rules)), own_spiffe_id_(std::move(own_spiffe_id)) {}
  std::string_view name() const override { return "inbound_authorization"; }
  asio::awaitable<pipeline::Verdict> authenticate(pipeline::RequestCtx& ctx) override;

 private:
  std::vector<AuthorizationRule> rules_;
  std::string own_spiffe_id_;
};

// The endpoints a sidecar snapshot sends to: one per peer (same index as the config's peers), and the agent.
struct SidecarUpstreams {
  std::vector<http::UpstreamEndpoint> peers;
  http::UpstreamEndpoint agent;
};

class PeerRoute final : public pipeline::Filter {
 public:
  PeerRoute(std::shared_ptr<const SidecarConfig> config, const SidecarUpstreams& upstreams)
      : config_(std::move(config)), upstreams_(upstreams) {}
  std::string_view name() const override { return "peer_route"; }
  asio::awaitable<pipeline::Verdict> select_upstream(pipeline::RequestCtx& ctx) override;
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  // One line per CONNECT: the tunnel with its bytes each way and duration, or why it was refused.
  void log(const pipeline::RequestCtx& ctx) override;

 private:
  // A CONNECT: a tunnel when egress.allow lets its HOST:PORT through, else 403 egress_denied.
  pipeline::Verdict select_tunnel(pipeline::RequestCtx& ctx) const;
  std::shared_ptr<const SidecarConfig> config_;
  const SidecarUpstreams& upstreams_;  // owned by the snapshot that owns this filter
};

}  // namespace tollway::sidecar
