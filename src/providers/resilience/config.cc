#include "providers/resilience/config.h"

namespace tollway::config {
namespace {

constexpr uint32_t kMaxEndpoints = 64;
constexpr uint32_t kMaxWeight = 1000;
constexpr uint32_t kMaxRetries = 10;
constexpr std::size_t kMaxFallbacks = 8;

// One URL into an endpoint; false (error reported) when malformed.
bool read_endpoint_url(Validator& v, const YAML::Node& node, const std::string& path, EndpointConfig& e) {
  ProviderConfig parsed;
  v.base_url(node, path, parsed);
  if (parsed.host.empty()) return false;
  e.tls = parsed.tls;
  e.host = parsed.host;
  e.port = parsed.port;
  e.path_prefix = parsed.path_prefix;
  // The canonical form names the endpoint in metrics and logs (after ${env:...} substitution).
  const std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  e.url = std::string(e.tls ? "https://" : "http://") + host + ":" + std::to_string(e.port) + e.path_prefix;
  return true;
}

bool read_count(Validator& v, const YAML::Node& parent, const char* key, const std::string& path, uint32_t min,
                uint32_t max, uint32_t& out) {
  bool ok = true;
  v.optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& s) {
    char* end = nullptr;
    const long n = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || n < static_cast<long>(min) || n > static_cast<long>(max)) {
      v.fail(node, path + key, "\"" + s + "\" is not a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max));
      ok = false;
    } else {
      out = static_cast<uint32_t>(n);
    }
  });
  return ok;
}

void read_endpoints_list(Validator& v, const YAML::Node& list, const std::string& path, ProviderConfig& p) {
  if (!list.IsSequence() || list.size() == 0 || list.size() > kMaxEndpoints) {
    v.fail(list, path, "must be a list of 1 to " + std::to_string(kMaxEndpoints) +
                           " base URLs, each a string or {url, weight}");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    EndpointConfig e;
    if (item.IsMap()) {
      if (!v.check_mapping(item, item_path, {"url", "weight"})) continue;
      if (!item["url"].IsDefined()) {
        v.fail(item, item_path + ".url", "required: http(s)://host[:port][/path]");
        continue;
      }
      if (!read_endpoint_url(v, item["url"], item_path + ".url", e)) continue;
      if (!read_count(v, item, "weight", item_path + ".", 1, kMaxWeight, e.weight)) continue;
    } else if (!read_endpoint_url(v, item, item_path, e)) {
      continue;
    }
    for (const auto& other : p.endpoints)
      if (other.url == e.url) v.fail(item, item_path, "\"" + e.url + "\" is listed twice");
    p.endpoints.push_back(std::move(e));
  }
}

void read_breaker(Validator& v, const YAML::Node& b, const std::string& path, BreakerConfig& out) {
  if (!v.check_mapping(b, path, {"failures", "base_ejection", "max_ejection"})) return;
  read_count(v, b, "failures", path + ".", 1, 1000, out.failures);
  v.duration(b, "base_ejection", path + ".", out.base_ejection);
  v.duration(b, "max_ejection", path + ".", out.max_ejection);
  if (out.max_ejection < out.base_ejection)
    v.fail(b, path + ".max_ejection", "must be at least base_ejection");
}

void read_retries(Validator& v, const YAML::Node& n, const std::string& path, RetryPolicy& out) {
  if (!v.check_mapping(n, path, {"attempts", "backoff_base", "backoff_max", "on"})) return;
  read_count(v, n, "attempts", path + ".", 0, kMaxRetries, out.attempts);
  v.duration(n, "backoff_base", path + ".", out.backoff_base);
  v.duration(n, "backoff_max", path + ".", out.backoff_max);
  if (out.backoff_max < out.backoff_base) v.fail(n, path + ".backoff_max", "must be at least backoff_base");
  const YAML::Node on = n["on"];
  if (!on.IsDefined() || on.IsNull()) return;
  if (!on.IsSequence()) {
    v.fail(on, path + ".on", "must be a list of: connect, timeout, 429, 5xx");
    return;
  }
  out.on_connect = out.on_timeout = out.on_429 = out.on_5xx = false;
  for (std::size_t i = 0; i < on.size(); ++i) {
    const std::string item_path = path + ".on[" + std::to_string(i) + "]";
    auto s = v.string_value(on[i], item_path);
    if (!s) continue;
    if (*s == "connect") out.on_connect = true;
    else if (*s == "timeout") out.on_timeout = true;
    else if (*s == "429") out.on_429 = true;
    else if (*s == "5xx") out.on_5xx = true;
    else v.fail(on[i], item_path, "\"" + *s + "\" is not a retry condition (allowed: connect, timeout, 429, 5xx)");
  }
}

void read_fallback(Validator& v, const YAML::Node& list, const std::string& path, const GatewayConfig& c,
                   RouteConfig& r) {
  if (!list.IsSequence() || list.size() > kMaxFallbacks) {
    v.fail(list, path, "must be a list of at most " + std::to_string(kMaxFallbacks) + " {provider, model?}");
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (!v.check_mapping(item, item_path, {"provider", "model"})) continue;
    FallbackTarget t;
    if (!item["provider"].IsDefined()) {
      v.fail(item, item_path + ".provider", "required: the name of a provider");
      continue;
    }
    auto p = v.provider_ref(item["provider"], item_path + ".provider", c.providers);
    if (!p) continue;
    t.provider = *p;
    bool ok = true;
    v.optional_string(item, "model", item_path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s.empty() || s.size() > 256 || s.find_first_of("\"\\\r\n") != std::string::npos) {
        v.fail(node, item_path + ".model", "must be a model name (1-256 characters, no quotes or backslashes)");
        ok = false;
      }
      t.model = s;
    });
    if (!ok) continue;
    if (r.body == RouteBody::Raw && !t.model.empty()) {
      v.fail(item["model"], item_path + ".model",
             "this route has `body: raw`: its body is forwarded unread, so its model cannot be replaced");
      continue;
    }
    if (c.providers[t.provider].api != r.api && r.body == RouteBody::Raw) {
      v.fail(item["provider"], item_path + ".provider",
             "provider \"" + c.providers[t.provider].name + "\" speaks the " +
                 api_name(c.providers[t.provider].api) + " API but this route's api is " + api_name(r.api) +
                 ", and a route with `body: raw` cannot translate a body it does not read");
      continue;
    }
    if (c.providers[t.provider].api != r.api && (r.api == Api::Gemini || c.providers[t.provider].api == Api::Gemini)) {
      v.fail(item["provider"], item_path + ".provider",
             "provider \"" + c.providers[t.provider].name + "\" speaks the " + api_name(c.providers[t.provider].api) +
                 " API but this route's api is " + api_name(r.api) + ", and Gemini requests are never translated");
      continue;
    }
    if (c.providers[t.provider].api != r.api && !r.translate) {
      v.fail(item["provider"], item_path + ".provider",
             "provider \"" + c.providers[t.provider].name + "\" speaks the " + api_name(c.providers[t.provider].api) +
                 " API but this route's api is " + api_name(r.api) + " and its `translate` is off");
      continue;
    }
    r.fallback.push_back(std::move(t));
  }
}

}  // namespace

void read_provider_endpoints(Validator& v, const YAML::Node& n, const std::string& path, ProviderConfig& p) {
  const bool has_base = n["base_url"].IsDefined(), has_list = n["endpoints"].IsDefined();
  if (has_base == has_list) {
    v.fail(n, path + ".base_url",
           has_base ? "give either base_url or endpoints, not both"
                    : "required (or `endpoints`), e.g. https://api.openai.com");
  } else if (has_base) {
    EndpointConfig e;
    if (read_endpoint_url(v, n["base_url"], path + ".base_url", e)) p.endpoints.push_back(std::move(e));
  } else {
    read_endpoints_list(v, n["endpoints"], path + ".endpoints", p);
  }
  if (!p.endpoints.empty()) {
    const EndpointConfig& first = p.endpoints.front();
    p.tls = first.tls;
    p.host = first.host;
    p.port = first.port;
    p.path_prefix = first.path_prefix;
  }
  v.optional_string(n, "load_balancing", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (s == "round_robin") p.load_balancing = LoadBalancing::RoundRobin;
    else if (s == "least_in_flight") p.load_balancing = LoadBalancing::LeastInFlight;
    else if (s == "latency_ewma") p.load_balancing = LoadBalancing::LatencyEwma;
    else
      v.fail(node, path + ".load_balancing",
             "\"" + s + "\" is not a policy (allowed: round_robin, least_in_flight, latency_ewma)");
  });
  if (const YAML::Node b = n["breaker"]; b.IsDefined() && !b.IsNull()) read_breaker(v, b, path + ".breaker", p.breaker);
}

void read_route_resilience(Validator& v, const YAML::Node& n, const std::string& path, const GatewayConfig& c,
                           RouteConfig& r) {
  if (const YAML::Node rt = n["retries"]; rt.IsDefined() && !rt.IsNull()) read_retries(v, rt, path + ".retries", r.retries);
  if (const YAML::Node fb = n["fallback"]; fb.IsDefined() && !fb.IsNull()) read_fallback(v, fb, path + ".fallback", c, r);
}

}  // namespace tollway::config
