// UsageClient: a node's side of POST /v1/usage — the LeaseSource a leased ledger reports through. Each exchange is
// one JSON report {node, incarnation, seq, keys} to the first control plane that answers (the node's bootstrap
// token as Bearer, its SVID over https when it holds one), and the leases of the answer. The incarnation is drawn
// at start, so a restarted process is a new holder; seq grows with every report. It never logs the token.
#pragma once

#include <atomic>
#include <string>

#include "control/client/control_config_source.h"
#include "limits/leased/lease_source.h"

namespace tollway::control {

class UsageClient final : public limits::LeaseSource {
 public:
  explicit UsageClient(ControlClientOptions options);
  boost::asio::awaitable<std::optional<limits::LeaseAnswer>> exchange(std::vector<limits::LeaseUse> uses,
                                                                     std::string& error) override;

 private:
  ControlClientOptions options_;
  std::string incarnation_;
  std::atomic<int64_t> seq_{0};
};

}  // namespace tollway::control
