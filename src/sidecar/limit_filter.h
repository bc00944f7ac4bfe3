// LocalLimits: the sidecar's local limits (the document's `limits:` rules, sidecar/limit_config.h), as the admit
// and settle phases. Admit names the call's caller (inbound: the peer's verified SPIFFE ID; outbound: this agent)
// and destination (inbound: `local`; outbound: the peer, or `gateway` for an LLM call), reserves one request and,
// for an LLM call under a token rule, an estimate of its tokens (the prompt counted, plus max_tokens or
// limits.default_max_tokens) on every matching rule's counter in the in-process ledger, all or nothing; a denial is
// 429 rate_limit_exceeded with retry-after, naming the rule, counted by rule and logged with both identities.
// Settle replaces the token estimate by the usage the gateway's response reported (ctx.usage); the request stays
// counted. It never waits on the network and never leaves a reservation open.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "limits/local_ledger.h"
#include "pipeline/filter.h"
#include "sidecar/config.h"
#include "tokens/estimator.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// What local limits keep for the life of the process, across reloads: the ledger (a rule keeps its counters while
// its name does) and the denials by rule, rendered on /metrics.
class LocalLimitState {
 public:
  limits::LocalLedger& ledger() { return ledger_; }
  void count_denial(const std::string& rule, bool shadow);
  void render_metrics(std::string& out) const;

 private:
  limits::LocalLedger ledger_;
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> denials_, shadow_denials_;
};

// The call as the rules see it.
struct LimitedCall {
  std::string_view caller;       // a SPIFFE ID
  std::string_view destination;  // a peer name, kGatewayDestination or kLocalDestination
  uint64_t input_tokens = 0;     // LLM calls: the estimate reserved before the call
  uint64_t output_tokens = 0;
};

// Appends one counter (with its amount and rule index) per rule that matches `call`. A token rule matches LLM
// calls only (destination kGatewayDestination).
void plan_local_limits(const LocalLimitsConfig& config, const LimitedCall& call, std::vector<limits::Counter>& counters,
                       std::vector<int64_t>& amounts, std::vector<uint32_t>& rules);

class LocalLimits final : public pipeline::Filter {
 public:
  LocalLimits(std::shared_ptr<const SidecarConfig> config, LocalLimitState& state)
      : config_(std::move(config)), state_(state) {}
  std::string_view name() const override { return "local_limits"; }
  asio::awaitable<pipeline::Verdict> admit(pipeline::RequestCtx& ctx) override;
  asio::awaitable<void> settle(pipeline::RequestCtx& ctx) override;

 private:
  // The destination's name and SPIFFE ID; empty name when the call goes nowhere limits apply (refused later).
  std::pair<std::string_view, std::string_view> destination_of(const pipeline::RequestCtx& ctx) const;

  std::shared_ptr<const SidecarConfig> config_;
  LocalLimitState& state_;
  tokens::PromptEstimator estimator_;
};

}  // namespace tollway::sidecar
