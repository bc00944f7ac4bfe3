// PolicyAuthzFilter: the authorize phase. For an authenticated caller with a policy, allows the request only
// when its path matches an allowed route glob, its body's model matches an allowed model glob, and its output
// limit (max_tokens / max_completion_tokens / max_output_tokens) is set and within the cap; a request naming
// a tenant (`x-tollway-tenant`) other than the caller's is refused (tenant isolation). A policy on models or
// max_tokens cannot be checked on a `body: raw` route, so such a caller is refused there. It reads the body
// only through ctx.body_fields (providers::RequestBodyFilter, earlier in the phase), never parses it itself.
// Denials are 403 in the caller's API format naming what is not allowed (never the credential). Decides in
// process; no I/O.
#pragma once

#include <atomic>
#include <string>

#include "pipeline/filter.h"

namespace tollway::auth {

namespace asio = boost::asio;

// Denials by reason since start, for /metrics (the allowed path counts nothing). Process-lifetime: owned by
// GatewayAuth, shared by the filters of every snapshot.
struct AuthzDenials {
  std::atomic<uint64_t> route{0}, model{0}, max_tokens{0}, tenant{0}, raw_body{0};
  void render_metrics(std::string& out) const;
};

class PolicyAuthzFilter final : public pipeline::Filter {
 public:
  explicit PolicyAuthzFilter(AuthzDenials& denials) : denials_(denials) {}
  std::string_view name() const override { return "policy_authz"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;

 private:
  AuthzDenials& denials_;
};

}  // namespace tollway::auth
