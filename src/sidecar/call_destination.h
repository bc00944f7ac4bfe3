// CallDestination: where a request on a sidecar listener is addressed, read from the request itself so that it is
// known before routing and for a call refused before it (a local limit, an identity rule): inbound, `local`;
// outbound origin-form, `gateway` (the agent's LLM call, with sidecar.gateway set; not the MCP endpoint's path);
// outbound absolute-form, the configured peer its host names. Limits count against it and the call's span names it (tollway.peer). It never
// resolves or contacts anything and never names a host that is not a configured peer.
#pragma once

#include <string_view>

#include "pipeline/request_ctx.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

struct CallDestination {
  std::string_view name;       // a peer name, kGatewayDestination or kLocalDestination; empty: none of them
  std::string_view spiffe_id;  // the destination's SPIFFE ID
};

CallDestination call_destination(const SidecarConfig& config, const pipeline::RequestCtx& ctx);

}  // namespace tollway::sidecar
