// SpiffeCallers: who a peer is, by the SPIFFE ID of its verified client certificate (`auth.spiffe`): the deny
// list first (refused whatever else the request carries), then the first `callers` mapping whose ID or
// pattern matches, which makes the peer a caller with its tenant, agent group, agent (the mapping's, or the
// ID's last path segment) and allow policy — the same Caller a virtual key or a JWT yields. Built once per
// snapshot, read-only after; it never looks at an unverified certificate or at a credential header.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller_policy.h"
#include "config/auth_config.h"
#include "pipeline/request_ctx.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::auth {

class SpiffeCallers {
 public:
  // `config` is validated (every ID parses as a pattern).
  explicit SpiffeCallers(const config::SpiffeAuthConfig& config);

  struct Lookup {
    enum class Result { Unmapped, Denied, Caller } result = Result::Unmapped;
    std::string_view rule;    // the deny entry or the callers mapping's id that decided
    pipeline::Caller caller;  // Result::Caller only
  };
  // `spiffe_id` is the peer identity's (valid) SPIFFE ID.
  Lookup lookup(std::string_view spiffe_id) const;
  bool empty() const { return deny_.empty() && callers_.empty(); }

 private:
  struct Mapping {
    tls::SpiffeIdPattern pattern;
    config::SpiffeCallerConfig config;
    std::shared_ptr<const CallerPolicy> policy;
  };
  std::vector<tls::SpiffeIdPattern> deny_;
  std::vector<Mapping> callers_;
};

}  // namespace tollway::auth
