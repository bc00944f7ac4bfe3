// UsageFilter: learns what each call consumed and cost. In shape_upstream it asks an OpenAI chat stream for
// its usage (stream_options.include_usage) when the caller did not, and remembers to remove that extra
// usage-only chunk again; on the response it reads the usage from the JSON body or the SSE events (passing
// every other byte through unchanged), estimates it when the provider never reported it (stream cut, client
// gone past the drain bounds) and flags ctx.usage.estimated, prices it (PriceTable) into ctx.usage, and logs
// one "usage" line per proxied request. It never changes a byte the caller asked for and never blocks.
#pragma once

#include <memory>

#include "config/gateway_config.h"
#include "pipeline/filter.h"
#include "providers/pricing/price_table.h"
#include "tokens/estimator.h"

namespace tollway::providers {

namespace asio = boost::asio;

class UsageFilter final : public pipeline::Filter {
 public:
  // What the filter reads from the configuration.
  struct Config {
    config::PricingConfig pricing;
    // One "usage" log line per proxied call: the `usage` section's log_calls, but off while telemetry's access
    // log is on (it carries every field of that line).
    bool log_calls = true;
  };

  explicit UsageFilter(Config config);

  std::string_view name() const override { return "usage"; }
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                    const http::ResponseHead& head) override;
  void log(const pipeline::RequestCtx& ctx) override;

  // Fills ctx.usage with an estimate (prompt from the request body, output_tokens counted from the streamed
  // text) and prices it.
  void estimate(pipeline::RequestCtx& ctx, uint64_t output_tokens) const;
  // The encoding a call's output text is counted with (the prompt's).
  tokens::EncodingName output_encoding(const pipeline::RequestCtx& ctx) const;
  void price(pipeline::RequestCtx& ctx) const;

 private:
  Config config_;
  PriceTable prices_;  // reads config_.pricing
  tokens::PromptEstimator estimator_;
};

}  // namespace tollway::providers
