#include "auth/config.h"

#include "core/glob.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::config {

std::vector<std::string> read_string_list(Validator& v, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    v.fail(node, path, "must be a list of strings");
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i)
    if (auto s = v.string_value(node[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
  return out;
}

void read_rule_action(Validator& v, const YAML::Node& rule, const std::string& path, bool& deny, bool& audit) {
  if (!rule["action"].IsDefined()) v.fail(rule, path + ".action", "required: allow or deny");
  v.optional_string(rule, "action", path + ".", [&](const YAML::Node& node, const std::string& text) {
    if (text == "deny") deny = true;
    else if (text != "allow") v.fail(node, path + ".action", "\"" + text + "\" is not allow or deny");
  });
  v.optional_string(rule, "mode", path + ".", [&](const YAML::Node& node, const std::string& text) {
    if (text == "audit") audit = true;
    else if (text != "enforce") v.fail(node, path + ".mode", "\"" + text + "\" is not enforce or audit");
  });
}

namespace {

const std::vector<std::string> kAlgorithms = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                              "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};

void read_globs(Validator& v, const YAML::Node& node, const std::string& path, std::vector<std::string>& out) {
  out = read_string_list(v, node, path);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (auto err = glob_syntax_error(out[i]); !err.empty())
      v.fail(node[i], path + "[" + std::to_string(i) + "]", std::string(err));
}

void read_policy(Validator& v, const YAML::Node& n, const std::string& path, CallerPolicyConfig& p) {
  if (!n.IsDefined() || n.IsNull()) return;
  if (!v.check_mapping(n, path, {"routes", "models", "max_tokens"})) return;
  read_globs(v, n["routes"], path + ".routes", p.routes);
  read_globs(v, n["models"], path + ".models", p.models);
  v.optional_string(n, "max_tokens", path + ".", [&](const YAML::Node& node, const std::string& s) {
    char* end = nullptr;
    const unsigned long long x = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || s[0] == '-') v.fail(node, path + ".max_tokens", "must be a positive integer");
    else p.max_tokens = x;
  });
}

// True when a caller restricted to these path globs (empty = any path) can call the route.
bool policy_reaches(const std::vector<std::string>& route_globs, const RouteConfig& route) {
  if (route_globs.empty()) return true;
  for (const auto& glob : route_globs)
    if (route.is_prefix ? glob_can_match_prefixed(glob, route.path) : glob_match(glob, route.path))
      return true;
  return false;
}

// An issuer's models / max_tokens are read from the body, which a `body: raw` route forwards unread: every
// call its callers make there would be refused, so the combination is a configuration error.
void check_policy_against_raw_routes(Validator& v, const YAML::Node& allow, const std::string& path,
                                     const CallerPolicyConfig& p, const std::vector<RouteConfig>& routes) {
  if (p.models.empty() && p.max_tokens == 0) return;
  for (const auto& route : routes) {
    if (route.body != RouteBody::Raw || !policy_reaches(p.routes, route)) continue;
    v.fail(allow, path,
           std::string("limits models or max_tokens, which are read from the request body, but ") +
               (p.routes.empty() ? "allows every route, including " : "its routes allow ") +
               (route.is_prefix ? "prefix " : "path ") + route.path + " (line " + std::to_string(route.line) +
               "), whose `body: raw` is forwarded unread; list allow.routes without that route");
  }
}

bool is_http_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

void read_issuer(Validator& v, const YAML::Node& n, const std::string& path,
                 const std::vector<RouteConfig>& routes, AuthConfig& auth) {
  if (!v.check_mapping(n, path, {"issuer", "audiences", "jwks_file", "jwks_url", "jwks_refresh", "algorithms",
                                 "required_claims", "claims", "allow"}))
    return;
  JwtIssuerConfig is;
  if (!n["issuer"].IsDefined()) v.fail(n, path + ".issuer", "required: the exact \"iss\" value of the tokens");
  v.optional_string(n, "issuer", path + ".", [&](const YAML::Node&, const std::string& s) { is.issuer = s; });
  is.audiences = read_string_list(v, n["audiences"], path + ".audiences");
  v.optional_string(n, "jwks_file", path + ".", [&](const YAML::Node&, const std::string& s) { is.jwks_file = s; });
  v.optional_string(n, "jwks_url", path + ".", [&](const YAML::Node& node, const std::string& s) {
    if (!is_http_url(s)) v.fail(node, path + ".jwks_url", "must be an http:// or https:// URL");
    is.jwks_url = s;
  });
  if (is.jwks_file.empty() == is.jwks_url.empty())
    v.fail(n, path, "needs exactly one of jwks_file or jwks_url");
  v.duration(n, "jwks_refresh", path + ".", is.jwks_refresh);
  is.algorithms = read_string_list(v, n["algorithms"], path + ".algorithms");
  for (std::size_t i = 0; i < is.algorithms.size(); ++i) {
    bool known = false;
    for (const auto& a : kAlgorithms) known |= (a == is.algorithms[i]);
    if (!known)
      v.fail(n["algorithms"][i], path + ".algorithms[" + std::to_string(i) + "]",
             "\"" + is.algorithms[i] + "\" is not a supported algorithm (allowed: " + join(kAlgorithms) + ")");
  }
  is.required_claims = read_string_list(v, n["required_claims"], path + ".required_claims");
  if (const YAML::Node c = n["claims"]; c.IsDefined() && !c.IsNull()) {
    if (v.check_mapping(c, path + ".claims", {"tenant", "agent", "group"})) {
      v.optional_string(c, "tenant", path + ".claims.", [&](const YAML::Node&, const std::string& s) { is.tenant_claim = s; });
      v.optional_string(c, "agent", path + ".claims.", [&](const YAML::Node&, const std::string& s) { is.agent_claim = s; });
      v.optional_string(c, "group", path + ".claims.", [&](const YAML::Node&, const std::string& s) { is.group_claim = s; });
    }
  }
  read_policy(v, n["allow"], path + ".allow", is.policy);
  check_policy_against_raw_routes(v, n["allow"], path + ".allow", is.policy, routes);
  for (const auto& other : auth.jwt_issuers)
    if (other.issuer == is.issuer) v.fail(n["issuer"], path + ".issuer", "issuer \"" + is.issuer + "\" is listed twice");
  auth.jwt_issuers.push_back(std::move(is));
}

// A SPIFFE ID or pattern at `node`; "" when it is not one (reported).
std::string read_spiffe_pattern(Validator& v, const YAML::Node& node, const std::string& path) {
  const auto text = v.string_value(node, path);
  if (!text) return "";
  std::string why;
  if (!tls::SpiffeIdPattern::parse(*text, &why)) {
    v.fail(node, path, "\"" + *text + "\" is not a SPIFFE ID or pattern: " + why);
    return "";
  }
  return *text;
}

void read_spiffe_caller(Validator& v, const YAML::Node& n, const std::string& path,
                        const std::vector<RouteConfig>& routes, SpiffeAuthConfig& spiffe) {
  if (!v.check_mapping(n, path, {"id", "tenant", "agent_group", "agent", "allow"})) return;
  SpiffeCallerConfig caller;
  if (!n["id"].IsDefined()) v.fail(n, path + ".id", "required: a SPIFFE ID, or one with \"*\" path segments");
  else caller.id = read_spiffe_pattern(v, n["id"], path + ".id");
  if (!n["tenant"].IsDefined()) v.fail(n, path + ".tenant", "required: the tenant these callers belong to");
  for (const auto& [key, target] : {std::pair{"tenant", &caller.tenant}, std::pair{"agent_group", &caller.agent_group},
                                    std::pair{"agent", &caller.agent}}) {
    std::string* value = target;
    const std::string name = key;
    v.optional_string(n, key, path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s.empty()) v.fail(node, path + "." + name, "must not be empty");
      *value = s;
    });
  }
  if (!caller.id.empty() && caller.agent.empty() && !tls::SpiffeIdPattern::parse(caller.id)->has_path())
    v.fail(n, path + ".agent", "required when the ID has no path (the agent is otherwise its last path segment)");
  read_policy(v, n["allow"], path + ".allow", caller.policy);
  check_policy_against_raw_routes(v, n["allow"], path + ".allow", caller.policy, routes);
  for (const auto& other : spiffe.callers)
    if (!caller.id.empty() && other.id == caller.id)
      v.fail(n["id"], path + ".id", "\"" + caller.id + "\" is listed twice");
  spiffe.callers.push_back(std::move(caller));
}

void read_spiffe(Validator& v, const YAML::Node& s, const std::vector<RouteConfig>& routes, SpiffeAuthConfig& spiffe) {
  if (!s.IsDefined() || s.IsNull()) return;
  if (!v.check_mapping(s, "auth.spiffe", {"callers", "deny"})) return;
  if (const YAML::Node callers = s["callers"]; callers.IsDefined() && !callers.IsNull()) {
    if (!callers.IsSequence()) {
      v.fail(callers, "auth.spiffe.callers", "must be a list of {id, tenant, agent_group?, agent?, allow?}");
    } else {
      for (std::size_t i = 0; i < callers.size(); ++i)
        read_spiffe_caller(v, callers[i], "auth.spiffe.callers[" + std::to_string(i) + "]", routes, spiffe);
    }
  }
  if (const YAML::Node deny = s["deny"]; deny.IsDefined() && !deny.IsNull()) {
    if (!deny.IsSequence()) {
      v.fail(deny, "auth.spiffe.deny", "must be a list of SPIFFE IDs or patterns");
    } else {
      for (std::size_t i = 0; i < deny.size(); ++i)
        if (auto id = read_spiffe_pattern(v, deny[i], "auth.spiffe.deny[" + std::to_string(i) + "]"); !id.empty())
          spiffe.deny.push_back(std::move(id));
    }
  }
}

}  // namespace

void read_auth_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node a = root["auth"];
  if (!a.IsDefined()) return;
  AuthConfig& auth = c.auth;
  auth.enabled = true;
  if (a.IsNull()) return;
  if (!v.check_mapping(a, "auth", {"admin_token", "virtual_keys", "clock_skew", "max_token_bytes", "jwt",
                                   "token_exchange", "spiffe"}))
    return;
  v.optional_string(a, "admin_token", "auth.", [&](const YAML::Node& node, const std::string& s) {
    if (!s.empty() && s.size() < 16) v.fail(node, "auth.admin_token", "must be at least 16 characters");
    if (s.find_first_of("\r\n") != std::string::npos) v.fail(node, "auth.admin_token", "must not contain CR or LF");
    auth.admin_token = s;
  });
  auth.virtual_keys_store = "tollway-keys.db";
  if (const YAML::Node vk = a["virtual_keys"]; vk.IsDefined() && !vk.IsNull()) {
    if (v.check_mapping(vk, "auth.virtual_keys", {"store"}))
      v.optional_string(vk, "store", "auth.virtual_keys.", [&](const YAML::Node& node, const std::string& s) {
        if (s.empty()) v.fail(node, "auth.virtual_keys.store", "must name a SQLite file (or :memory:)");
        auth.virtual_keys_store = s;
      });
  }
  v.duration(a, "clock_skew", "auth.", auth.clock_skew);
  v.size(a, "max_token_bytes", "auth.", auth.max_token_bytes);
  if (const YAML::Node j = a["jwt"]; j.IsDefined() && !j.IsNull()) {
    if (!j.IsSequence()) {
      v.fail(j, "auth.jwt", "must be a list of issuers {issuer, jwks_file | jwks_url, ...}");
    } else {
      for (std::size_t i = 0; i < j.size(); ++i)
        read_issuer(v, j[i], "auth.jwt[" + std::to_string(i) + "]", c.routes, auth);
    }
  }
  read_spiffe(v, a["spiffe"], c.routes, auth.spiffe);
  // Without client certificates no request has a SPIFFE ID. (A gateway.tls with an error is reported there.)
  const YAML::Node gateway = root["gateway"];
  const bool tls_written =
      gateway.IsDefined() && gateway.IsMap() && gateway["tls"].IsDefined() && !gateway["tls"].IsNull();
  if (!auth.spiffe.callers.empty() && ((c.tls && c.tls->client_ca_file.empty()) || (!c.tls && !tls_written)))
    v.fail(a["spiffe"], "auth.spiffe",
           "needs gateway.tls with client_ca_file: without client certificates no request has a SPIFFE ID");
  if (const YAML::Node t = a["token_exchange"]; t.IsDefined() && !t.IsNull()) {
    if (v.check_mapping(t, "auth.token_exchange", {"enabled", "issuer", "audience", "ttl", "rotate_every"})) {
      auto& te = auth.token_exchange;
      v.optional_string(t, "enabled", "auth.token_exchange.", [&](const YAML::Node& node, const std::string& s) {
        if (s == "true") te.enabled = true;
        else if (s == "false") te.enabled = false;
        else v.fail(node, "auth.token_exchange.enabled", "must be true or false");
      });
      v.optional_string(t, "issuer", "auth.token_exchange.", [&](const YAML::Node&, const std::string& s) { te.issuer = s; });
      v.optional_string(t, "audience", "auth.token_exchange.", [&](const YAML::Node&, const std::string& s) { te.audience = s; });
      v.duration(t, "ttl", "auth.token_exchange.", te.ttl);
      v.duration(t, "rotate_every", "auth.token_exchange.", te.rotate_every);
      if (te.ttl > std::chrono::hours(24)) v.fail(t["ttl"], "auth.token_exchange.ttl", "must be at most 24h");
      if (te.rotate_every < te.ttl)
        v.fail(t, "auth.token_exchange.rotate_every", "must be at least the token ttl");
      for (const auto& is : auth.jwt_issuers)
        if (te.enabled && is.issuer == te.issuer)
          v.fail(t, "auth.token_exchange.issuer", "\"" + te.issuer + "\" is also a configured jwt issuer");
    }
  }
}

}  // namespace tollway::config
