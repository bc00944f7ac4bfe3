#include "telemetry/request_metrics.h"

namespace tollway::telemetry {
namespace {

std::string status_class(int status) {
  if (status < 100 || status > 599) return "none";
  return std::string(1, static_cast<char>('0' + status / 100)) + "xx";
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

void RequestMetrics::record_request(const std::string& route, const std::string& provider, int status,
                                    double seconds, double gateway_overhead_seconds, bool upstream_contacted) {
  ++requests_[{route, provider, status_class(status)}];
  duration_[route].observe(seconds);
  if (upstream_contacted) overhead_.observe(gateway_overhead_seconds);
}

void RequestMetrics::record_upstream_error(const std::string& provider, const std::string& kind) {
  ++upstream_errors_[{provider, kind}];
}

void RequestMetrics::record_usage(const std::string& provider, const UsageSample& u) {
  if (u.input) usage_tokens_[{provider, "input"}] += u.input;
  if (u.output) usage_tokens_[{provider, "output"}] += u.output;
  if (u.cached_input) usage_tokens_[{provider, "cached_input"}] += u.cached_input;
  if (u.cache_creation) usage_tokens_[{provider, "cache_creation_input"}] += u.cache_creation;
  if (u.reasoning) usage_tokens_[{provider, "reasoning"}] += u.reasoning;
  if (u.cost_micro_usd > 0) cost_micro_usd_[provider] += static_cast<uint64_t>(u.cost_micro_usd);
  ++usage_outcome_[{provider, u.known ? "reported" : u.estimated ? "estimated" : "none"}];
  if (u.priced_at_default && (u.known || u.estimated)) ++default_price_[provider];
}

void RequestMetrics::merge(const RequestMetrics& other) {
  for (const auto& [k, v] : other.requests_) requests_[k] += v;
  for (const auto& [k, h] : other.duration_) duration_[k].merge(h);
  overhead_.merge(other.overhead_);
  for (const auto& [k, v] : other.upstream_errors_) upstream_errors_[k] += v;
  for (const auto& [k, v] : other.usage_tokens_) usage_tokens_[k] += v;
  for (const auto& [k, v] : other.cost_micro_usd_) cost_micro_usd_[k] += v;
  for (const auto& [k, v] : other.usage_outcome_) usage_outcome_[k] += v;
  for (const auto& [k, v] : other.default_price_) default_price_[k] += v;
}

void RequestMetrics::render(std::string& out) const {
  out += "# HELP tollway_requests_total Requests answered, by route, provider and status class.\n";
  out += "# TYPE tollway_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, provider, cls] = key;
    out += "tollway_requests_total{route=\"" + escape_label(route) + "\",provider=\"" + escape_label(provider) +
           "\",status_class=\"" + cls + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tollway_request_duration_seconds Time from the first byte of a request to the last byte of its response.\n";
  out += "# TYPE tollway_request_duration_seconds histogram\n";
  for (const auto& [route, h] : duration_) h.render(out, "tollway_request_duration_seconds", "route=\"" + escape_label(route) + "\"");
  out += "# HELP tollway_gateway_overhead_seconds Time a proxied request spent inside tollway, excluding the upstream exchange.\n";
  out += "# TYPE tollway_gateway_overhead_seconds histogram\n";
  overhead_.render(out, "tollway_gateway_overhead_seconds", "");
  out += "# HELP tollway_upstream_errors_total Failed upstream exchanges, by provider and kind.\n";
  out += "# TYPE tollway_upstream_errors_total counter\n";
  for (const auto& [key, n] : upstream_errors_) {
    out += "tollway_upstream_errors_total{provider=\"" + escape_label(key.first) + "\",kind=\"" + key.second +
           "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tollway_usage_tokens_total Tokens consumed by proxied calls (provider-reported or estimated), by provider and kind.\n";
  out += "# TYPE tollway_usage_tokens_total counter\n";
  for (const auto& [key, n] : usage_tokens_)
    out += "tollway_usage_tokens_total{provider=\"" + escape_label(key.first) + "\",kind=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP tollway_cost_usd_micros_total Cost of proxied calls in micro-dollars (1e-6 USD), by provider.\n";
  out += "# TYPE tollway_cost_usd_micros_total counter\n";
  for (const auto& [provider, n] : cost_micro_usd_)
    out += "tollway_cost_usd_micros_total{provider=\"" + escape_label(provider) + "\"} " + std::to_string(n) + "\n";
  out += "# HELP tollway_usage_calls_total Proxied calls by how their usage was learned: reported, estimated (stream cut or never reported) or none (errors, no usage expected).\n";
  out += "# TYPE tollway_usage_calls_total counter\n";
  for (const auto& [key, n] : usage_outcome_)
    out += "tollway_usage_calls_total{provider=\"" + escape_label(key.first) + "\",usage=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP tollway_pricing_default_price_total Calls priced at pricing.default because their model matched no price entry.\n";
  out += "# TYPE tollway_pricing_default_price_total counter\n";
  for (const auto& [provider, n] : default_price_)
    out += "tollway_pricing_default_price_total{provider=\"" + escape_label(provider) + "\"} " + std::to_string(n) + "\n";
}

}  // namespace tollway::telemetry
