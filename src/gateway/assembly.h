// The gateway's role assembly: builds a Snapshot from a validated config, which means TLS contexts for the
// upstreams and the gateway's filter chain, listed in phase order. It only lists filters; no request logic.
#pragma once

#include <memory>
#include <string>

#include "config/gateway_config.h"
#include "gateway/services.h"
#include "pipeline/snapshot.h"

namespace tollway::gateway {

// Null and `error` set when something the validator cannot see fails (e.g. a CA file OpenSSL rejects).
std::shared_ptr<const pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                         uint64_t generation, Services& services,
                                                         std::string& error);

}  // namespace tollway::gateway
