#include "auth/caller/spiffe_callers.h"

namespace tollway::auth {

SpiffeCallers::SpiffeCallers(const config::SpiffeAuthConfig& config) {
  for (const auto& id : config.deny)
    if (auto pattern = tls::SpiffeIdPattern::parse(id)) deny_.push_back(std::move(*pattern));
  for (const auto& c : config.callers) {
    auto pattern = tls::SpiffeIdPattern::parse(c.id);
    if (!pattern) continue;
    auto policy = std::make_shared<CallerPolicy>();
    policy->routes = c.policy.routes;
    policy->models = c.policy.models;
    policy->max_tokens = c.policy.max_tokens;
    callers_.push_back({std::move(*pattern), c, std::move(policy)});
  }
}

SpiffeCallers::Lookup SpiffeCallers::lookup(std::string_view spiffe_id) const {
  Lookup out;
  const auto id = tls::SpiffeId::parse(spiffe_id);
  if (!id) return out;
  for (const auto& pattern : deny_) {
    if (!pattern.matches(*id)) continue;
    out.result = Lookup::Result::Denied;
    out.rule = pattern.text();
    return out;
  }
  for (const auto& mapping : callers_) {
    if (!mapping.pattern.matches(*id)) continue;
    out.result = Lookup::Result::Caller;
    out.rule = mapping.pattern.text();
    pipeline::Caller& c = out.caller;
    c.authenticated = true;
    c.method = "spiffe";
    c.tenant = mapping.config.tenant;
    c.agent_group = mapping.config.agent_group;
    c.agent = mapping.config.agent;
    if (c.agent.empty()) {
      const std::string_view path = id->path();
      c.agent = std::string(path.substr(path.rfind('/') + 1));
    }
    c.key_id = id->text();  // who the caller is in logs, spend and per-caller limits
    c.policy = mapping.policy;
    return out;
  }
  return out;
}

}  // namespace tollway::auth
