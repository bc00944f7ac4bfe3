#include "telemetry/request_metrics.h"

#include "core/prometheus_text.h"

namespace tollway::telemetry {
namespace {

namespace prometheus = core::prometheus;

constexpr const char* kStatusClassNames[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr const char* kTokenKindNames[] = {"input", "output", "cached_input", "cache_creation_input", "reasoning"};
constexpr const char* kUsageOutcomeNames[] = {"reported", "estimated", "none"};
constexpr const char* kErrorKindNames[] = {"connect", "timeout", "protocol", "reset", "other"};

std::size_t status_class(int status) { return status < 100 || status > 599 ? 0 : static_cast<std::size_t>(status / 100); }

template <typename Map>
typename Map::mapped_type& series(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
  return it->second;
}

}  // namespace

RequestMetrics::RouteSeries& RequestMetrics::route_series(std::string_view route) { return series(routes_, route); }

RequestMetrics::ProviderSeries& RequestMetrics::provider_series(std::string_view provider) {
  return series(providers_, provider);
}

void RequestMetrics::record_request(std::string_view route, std::string_view provider, int status, double seconds,
                                    double gateway_overhead_seconds, bool upstream_contacted) {
  RouteSeries& r = route_series(route);
  ++series(r.by_provider, provider)[status_class(status)];
  if (status == 401 || status == 403 || status == 429) ++denials_;
  r.duration.observe(seconds);
  if (upstream_contacted) overhead_.observe(gateway_overhead_seconds);
}

void RequestMetrics::record_upstream_error(std::string_view provider, std::string_view kind) {
  std::size_t k = kOtherError;
  for (std::size_t i = 0; i < kOtherError; ++i)
    if (kind == kErrorKindNames[i]) k = i;
  ++provider_series(provider).upstream_errors[k];
}

void RequestMetrics::record_usage(std::string_view provider, const UsageSample& u) {
  ProviderSeries& p = provider_series(provider);
  p.tokens[kInput] += u.input;
  p.tokens[kOutput] += u.output;
  p.tokens[kCachedInput] += u.cached_input;
  p.tokens[kCacheCreation] += u.cache_creation;
  p.tokens[kReasoning] += u.reasoning;
  if (u.cost_micro_usd > 0) p.cost_micro_usd += static_cast<uint64_t>(u.cost_micro_usd);
  ++p.usage_outcome[u.known ? kReported : u.estimated ? kEstimated : kNone];
  if (u.priced_at_default && (u.known || u.estimated)) ++p.default_price;
}

void RequestMetrics::merge(const RequestMetrics& other) {
  for (const auto& [route, r] : other.routes_) {
    RouteSeries& mine = route_series(route);
    mine.duration.merge(r.duration);
    for (const auto& [provider, counts] : r.by_provider) {
      auto& m = series(mine.by_provider, provider);
      for (std::size_t i = 0; i < kStatusClasses; ++i) m[i] += counts[i];
    }
  }
  for (const auto& [provider, p] : other.providers_) {
    ProviderSeries& mine = provider_series(provider);
    for (std::size_t i = 0; i < kTokenKinds; ++i) mine.tokens[i] += p.tokens[i];
    mine.cost_micro_usd += p.cost_micro_usd;
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) mine.usage_outcome[i] += p.usage_outcome[i];
    mine.default_price += p.default_price;
    for (std::size_t i = 0; i < kErrorKinds; ++i) mine.upstream_errors[i] += p.upstream_errors[i];
  }
  overhead_.merge(other.overhead_);
  denials_ += other.denials_;
  calls_.merge(other.calls_);
}

RequestMetrics::ResponseTotals RequestMetrics::response_counts() const {
  ResponseTotals totals;
  for (const auto& [route, r] : routes_)
    for (const auto& [provider, counts] : r.by_provider)
      for (std::size_t c = 0; c < kStatusClasses; ++c) {
        totals.requests += counts[c];
        if (c == 5) totals.errors += counts[c];
      }
  totals.denials = denials_;
  return totals;
}

void RequestMetrics::render(std::string& out) const {
  prometheus::family(out, "tollway_requests_total", "counter",
                     "Requests answered, by route, provider and status class.");
  for (const auto& [route, r] : routes_)
    for (const auto& [provider, counts] : r.by_provider)
      for (std::size_t c = 0; c < kStatusClasses; ++c)
        if (counts[c])
          prometheus::sample(
              out, "tollway_requests_total",
              prometheus::labels(
                  {{"route", route}, {"provider", provider}, {"status_class", kStatusClassNames[c]}}),
              counts[c]);
  prometheus::family(out, "tollway_request_duration_seconds", "histogram",
                     "Time from the first byte of a request to the last byte of its response.");
  for (const auto& [route, r] : routes_)
    r.duration.render(out, "tollway_request_duration_seconds", prometheus::labels({{"route", route}}));
  prometheus::family(out, "tollway_gateway_overhead_seconds", "histogram",
                     "Time a proxied request spent inside tollway, excluding the upstream exchange.");
  overhead_.render(out, "tollway_gateway_overhead_seconds", "");
  prometheus::family(out, "tollway_upstream_errors_total", "counter",
                     "Failed upstream exchanges, by provider and kind.");
  for (const auto& [provider, p] : providers_)
    for (std::size_t k = 0; k < kErrorKinds; ++k)
      if (p.upstream_errors[k])
        prometheus::sample(out, "tollway_upstream_errors_total",
                           prometheus::labels({{"provider", provider}, {"kind", kErrorKindNames[k]}}),
                           p.upstream_errors[k]);
  prometheus::family(
      out, "tollway_usage_tokens_total", "counter",
      "Tokens consumed by proxied calls (provider-reported or estimated), by provider and kind.");
  for (const auto& [provider, p] : providers_)
    for (std::size_t k = 0; k < kTokenKinds; ++k)
      if (p.tokens[k])
        prometheus::sample(out, "tollway_usage_tokens_total",
                           prometheus::labels({{"provider", provider}, {"kind", kTokenKindNames[k]}}),
                           p.tokens[k]);
  prometheus::family(out, "tollway_cost_usd_micros_total", "counter",
                     "Cost of proxied calls in micro-dollars (1e-6 USD), by provider.");
  for (const auto& [provider, p] : providers_)
    if (p.cost_micro_usd)
      prometheus::sample(out, "tollway_cost_usd_micros_total", prometheus::labels({{"provider", provider}}),
                         p.cost_micro_usd);
  prometheus::family(out, "tollway_usage_calls_total", "counter",
                     "Proxied calls by how their usage was learned: reported, estimated (stream cut or never "
                     "reported) or none (errors, no usage expected).");
  for (const auto& [provider, p] : providers_)
    for (std::size_t k = 0; k < kUsageOutcomes; ++k)
      if (p.usage_outcome[k])
        prometheus::sample(out, "tollway_usage_calls_total",
                           prometheus::labels({{"provider", provider}, {"usage", kUsageOutcomeNames[k]}}),
                           p.usage_outcome[k]);
  prometheus::family(out, "tollway_pricing_default_price_total", "counter",
                     "Calls priced at pricing.default because their model matched no price entry.");
  for (const auto& [provider, p] : providers_)
    if (p.default_price)
      prometheus::sample(out, "tollway_pricing_default_price_total",
                         prometheus::labels({{"provider", provider}}), p.default_price);
  calls_.render(out);
}

}  // namespace tollway::telemetry
