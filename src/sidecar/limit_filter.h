// LocalLimits: the sidecar's limits (the document's `limits:` rules and budgets, sidecar/limit_config.h), as the
// admit and settle phases. Admit names the call's caller (inbound: the peer's verified SPIFFE ID; outbound: this
// agent) and destination (inbound: `local`; outbound: the peer, or `gateway` for an LLM call), reserves one request
// and, for an LLM call under a token rule or budget, an estimate of its tokens (the prompt counted, plus max_tokens
// or limits.default_max_tokens) on every matching counter, all or nothing: rules in the in-process ledger, budgets
// there too or, under `ledger: leased`, against this process's lease of the fleet's budget (limits/leased). A
// denial is 429 rate_limit_exceeded with retry-after, naming the rule or budget, counted and logged with both
// identities. Settle replaces the token estimate by the usage the gateway's response reported (ctx.usage); the
// request stays counted. It never waits on the network for a decision (only `on_lease_exhausted: wait` waits, on a
// timer) and never leaves a reservation open.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "limits/admission/reservation.h"
#include "limits/leased/leased_ledger.h"
#include "limits/local_ledger.h"
#include "pipeline/filter.h"
#include "sidecar/config.h"
#include "tokens/estimator.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// What limits keep for the life of the process, across reloads: the in-process ledger (a rule keeps its counters
// while its name does), the leased ledger once a document asks for `ledger: leased` (with its sync loop), and the
// denials by rule, rendered on /metrics.
class LocalLimitState {
 public:
  LocalLimitState() : local_(std::make_shared<limits::LocalLedger>()) {}
  limits::LocalLedger& ledger() { return *local_; }
  // Null until start_leased.
  limits::LeasedLedger* leased() { return leased_.get(); }
  // Builds the leased ledger over the in-process one and starts its sync loop on `control` (once; later calls
  // do nothing).
  void start_leased(std::shared_ptr<limits::LeaseSource> source, boost::asio::io_context& control);
  void count_denial(const std::string& rule, bool shadow);
  void render_metrics(std::string& out) const;

 private:
  std::shared_ptr<limits::LocalLedger> local_;
  std::unique_ptr<limits::LeasedLedger> leased_;
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> denials_, shadow_denials_;
};

// The call as the rules see it.
struct LimitedCall {
  std::string_view caller;       // a SPIFFE ID
  std::string_view destination;  // a peer name, kGatewayDestination or kLocalDestination
  uint64_t input_tokens = 0;     // LLM calls: the estimate reserved before the call
  uint64_t output_tokens = 0;
  // One MCP tools/call's tool or A2A message's skill (only rules with match.tools / match.skills count it); Calls
  // for the call itself.
  LocalLimitRule::Named named = LocalLimitRule::Named::Calls;
  std::string_view name;
};

// Appends one counter (with its amount and rule index) per rule that matches `call`. A token rule matches LLM
// calls only (destination kGatewayDestination).
// A budget's counter key ("budget|NAME|…|PERIOD", limits/policy.cc's form) is what the control plane aggregates: a
// sidecar budget and a gateway budget of the same name share one fleet-wide budget. `now_ms`: Unix ms.
void plan_local_limits(const LocalLimitsConfig& config, const LimitedCall& call, int64_t now_ms,
                       std::vector<limits::Counter>& counters, std::vector<int64_t>& amounts,
                       std::vector<uint32_t>& rules);

class LocalLimits final : public pipeline::Filter {
 public:
  LocalLimits(std::shared_ptr<const SidecarConfig> config, LocalLimitState& state)
      : config_(std::move(config)), state_(state) {}
  std::string_view name() const override { return "local_limits"; }
  asio::awaitable<pipeline::Verdict> admit(pipeline::RequestCtx& ctx) override;
  asio::awaitable<void> settle(pipeline::RequestCtx& ctx) override;

 private:
  std::shared_ptr<const SidecarConfig> config_;
  LocalLimitState& state_;
  tokens::PromptEstimator estimator_;
};

}  // namespace tollway::sidecar
