#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "auth/config.h"
#include "config/azure_section.h"
#include "mcp/guard/config.h"
#include "config/config_version.h"
#include "auth/credentials/config.h"
#include "config/embedded_config.h"
#include "config/interpolate.h"
#include "limits/admission/config.h"
#include "providers/resilience/config.h"
#include "telemetry/config.h"
#include "config/tls_files.h"
#include "providers/usage/config.h"
#include "config/validator.h"
#include "core/glob.h"
#include "core/sha256.h"
#include "core/units.h"

namespace tollway::config {

const char* api_name(Api api) {
  switch (api) {
    case Api::Anthropic: return "anthropic";
    case Api::Gemini: return "gemini";
    default: return "openai";
  }
}

const char* genai_provider_name(Api api, bool azure) {
  if (api == Api::Gemini) return "gcp.gemini";
  if (api == Api::Anthropic) return "anthropic";
  return azure ? "azure.ai.openai" : "openai";
}

const ModelAlias* find_model_alias(const std::vector<ModelAlias>& aliases, std::string_view name) {
  for (const auto& alias : aliases)
    if (alias.name == name) return &alias;
  return nullptr;
}

std::optional<std::size_t> provider_of_model(const std::vector<ModelRule>& rules, std::string_view model) {
  for (const auto& rule : rules)
    if (glob_match(rule.pattern, model)) return rule.provider;
  return std::nullopt;
}

std::string ListenAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  return out;
}

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
const std::string v(text);
  ListenAddress a;
  std::string port;
  if (!v.empty() && v[0] == '[') {
    auto close = v.find(']');
    if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':') return std::nullopt;
    a.host = v.substr(1, close - 1);
    port = v.substr(close + 2);
  } else {
    auto colon = v.rfind(':');
    if (colon == std::string::npos || v.find(':') != colon) return std::nullopt;
    a.host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  if (a.host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port)
    if (c < '0' || c > '9') return std::nullopt;
  const unsigned long p = std::stoul(port);
  if (p > 65535) return std::nullopt;
  a.port = static_cast<uint16_t>(p);
  if (a.host != "localhost") {
    for (char c : a.host) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
                      c == ':';
      if (!ok) return std::nullopt;
    }
  }
  return a;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string document_version(std::string_view yaml_text) { return sha256_hex(yaml_text).substr(0, 12); }

std::string content_version(std::string_view yaml_text) {
  if (yaml_text.starts_with(kControlDocumentHeader)) {
    const auto newline = yaml_text.find('\n');
    yaml_text = newline == std::string_view::npos ? std::string_view() : yaml_text.substr(newline + 1);
  }
  return document_version(yaml_text);
}

namespace {

// The bytes of a file the config names ("embedded:NAME" for a file compiled into the binary), or nothing.
std::optional<std::string> read_input_file(const std::string& path) {
  static constexpr std::string_view kEmbeddedPrefix = "embedded:";
  if (path.starts_with(kEmbeddedPrefix)) {
    const auto text = embedded_config_file(std::string_view(path).substr(kEmbeddedPrefix.size()));
    return text ? std::optional<std::string>(std::string(*text)) : std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

// The version of a valid config: see config/config_version.h.
std::string resolved_version(std::string_view yaml_text, const GatewayConfig& c,
                             std::map<std::string, std::optional<std::string>> variables,
                             const EnvLookup& env) {
  for (const auto& name : referenced_variables(c)) variables.emplace(name, env(name));
  VersionInputs inputs;
  inputs.document = yaml_text;
  for (auto& [name, value] : variables) inputs.environment.push_back({name, std::move(value)});
  for (const auto& path : referenced_files(c)) inputs.files.push_back({path, read_input_file(path)});
  return config_version(inputs);
}

void read_gateway_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node g = root["gateway"];
  if (!g.IsDefined() || g.IsNull()) return;
  if (!v.check_mapping(g, "gateway", {"listen", "admin", "tls", "admin_tls", "workers"})) return;
  v.listen_address(g, "listen", "gateway.", c.listen);
  v.listen_address(g, "admin", "gateway.", c.admin);
  read_listener_tls(v, g, "tls", "gateway.", c.tls);
  read_listener_tls(v, g, "admin_tls", "gateway.", c.admin_tls);
  v.optional_string(g, "workers", "gateway.", [&](const YAML::Node& node, const std::string& s) {
    char* end = nullptr;
    const long n = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || n < 0 || n > 256) {
      v.fail(node, "gateway.workers", "\"" + s + "\" is not a worker count (0 = one per core, up to 256)");
    } else {
      c.workers = static_cast<int>(n);
    }
  });
}

void read_limits_and_timeouts(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  if (const YAML::Node l = root["limits"]; l.IsDefined() && !l.IsNull()) {
    std::vector<std::string> keys = {"max_request_line", "max_header_block", "max_body"};
    keys.insert(keys.end(), connection_limit_keys().begin(), connection_limit_keys().end());
    keys.insert(keys.end(), limits_policy_keys().begin(), limits_policy_keys().end());
    if (v.check_mapping(l, "limits", keys)) {
      read_limits_policy(v, l, v.file(), c);
      v.size(l, "max_request_line", "limits.", c.limits.max_request_line);
      v.size(l, "max_header_block", "limits.", c.limits.max_header_block);
      v.size(l, "max_body", "limits.", c.limits.max_body);
      read_connection_limits(v, l, c.limits);
      if (c.limits.max_request_line > c.limits.max_header_block)
        v.fail(l, "limits.max_request_line", "must not exceed limits.max_header_block");
    }
  }
  if (const YAML::Node t = root["timeouts"]; t.IsDefined() && !t.IsNull()) {
    if (v.check_mapping(t, "timeouts", {"header_read", "body_read", "idle", "response_write", "upstream_connect",
                                        "upstream_first_byte", "upstream_idle", "upstream_total", "drain"})) {
      auto& o = c.timeouts;
      v.duration(t, "header_read", "timeouts.", o.header_read);
      v.duration(t, "body_read", "timeouts.", o.body_read);
      v.duration(t, "idle", "timeouts.", o.idle);
      v.duration(t, "response_write", "timeouts.", o.response_write);
      v.duration(t, "upstream_connect", "timeouts.", o.upstream_connect);
      v.duration(t, "upstream_first_byte", "timeouts.", o.upstream_first_byte);
      v.duration(t, "upstream_idle", "timeouts.", o.upstream_idle);
      v.duration(t, "upstream_total", "timeouts.", o.upstream_total);
      v.duration(t, "drain", "timeouts.", o.drain);
    }
  }
}

bool is_provider_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void read_providers(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node ps = root["providers"];
  if (!ps.IsDefined() || ps.IsNull() || !ps.IsMap() || ps.size() == 0) {
    v.fail(ps.IsDefined() ? ps : root, "providers",
           "at least one provider is required: a mapping of name -> {api, base_url, api_key}");
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : ps) {
    ProviderConfig p;
    p.name = kv.first.as<std::string>();
    const std::string path = "providers." + p.name;
    if (!seen.insert(p.name).second) v.fail(kv.first, path, "duplicate provider name");
    if (!is_provider_name(p.name))
      v.fail(kv.first, path, "provider names use a-z, 0-9, '-' and '_' (at most 64)");
    const YAML::Node n = kv.second;
    if (!v.check_mapping(n, path, {"api", "base_url", "endpoints", "load_balancing", "breaker", "api_key",
                                   "anthropic_version", "ca_file", "azure"}))
      continue;
    if (n["api"].IsDefined()) {
      if (auto api = v.api_value(n["api"], path + ".api")) p.api = *api;
    } else {
      v.fail(n, path + ".api", "required (openai, anthropic or gemini)");
    }
    if (n["azure"].IsDefined()) read_azure_block(v, n["azure"], path + ".azure", p);
    read_provider_endpoints(v, n, path, p);  // base_url | endpoints, load_balancing, breaker
    v.optional_string(n, "api_key", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s.find_first_of("\r\n") != std::string::npos || s.find('\0') != std::string::npos)
        v.fail(node, path + ".api_key", "must not contain CR, LF or NUL");
      else
        p.api_key = s;
    });
    v.optional_string(n, "anthropic_version", path + ".",
                      [&](const YAML::Node&, const std::string& s) { p.anthropic_version = s; });
    if (p.api == Api::Anthropic && p.anthropic_version.empty()) p.anthropic_version = "2023-06-01";
    v.optional_string(n, "ca_file", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s.empty()) v.fail(node, path + ".ca_file", "must be the path of a PEM file (omit it for the system store)");
      p.ca_file = s;
    });
    bool any_tls = false;
    for (const auto& e : p.endpoints) any_tls |= e.tls;
    if (!p.ca_file.empty() && !any_tls)
      v.fail(n["ca_file"], path + ".ca_file", "only meaningful with an https:// base_url");
    else
      check_client_tls_files(v, n, path + ".", {p.ca_file, "", ""});
    c.providers.push_back(std::move(p));
  }
}

void read_model_rules(Validator& v, const YAML::Node& ms, const std::string& list_path, GatewayConfig& c) {
  if (!ms.IsSequence()) {
    v.fail(ms, list_path, "must be a list of {match, provider}");
    return;
  }
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const std::string path = list_path + "[" + std::to_string(i) + "]";
    const YAML::Node n = ms[i];
    if (!v.check_mapping(n, path, {"match", "provider"})) continue;
    ModelRule rule;
    rule.line = n.Mark().line + 1;
    rule.key_path = path;
    bool ok = true;
    if (!n["match"].IsDefined()) {
      v.fail(n, path + ".match", "required: a model name glob such as \"gpt-*\"");
      ok = false;
    } else if (auto m = v.string_value(n["match"], path + ".match")) {
      if (auto err = glob_syntax_error(*m); !err.empty()) {
        v.fail(n["match"], path + ".match", std::string(err));
        ok = false;
      }
      rule.pattern = *m;
    }
    if (!n["provider"].IsDefined()) {
      v.fail(n, path + ".provider", "required: the name of a provider");
      ok = false;
    } else if (auto p = v.provider_ref(n["provider"], path + ".provider", c.providers)) {
      rule.provider = *p;
    } else {
      ok = false;
    }
    if (ok) c.models.push_back(std::move(rule));
  }
}

constexpr std::size_t kMaxAliasModels = 8;

// `models.aliases`: {NAME: [MODEL, ...]}; every model must be served by a model rule (its provider is known).
void read_model_aliases(Validator& v, const YAML::Node& as, GatewayConfig& c) {
  if (!as.IsMap()) {
    v.fail(as, "models.aliases", "must map alias names to lists of models, e.g. {fast: [gpt-4o-mini, claude-3-5-haiku]}");
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : as) {
    const std::string name = kv.first.as<std::string>();
    const std::string path = "models.aliases." + name;
    if (!seen.insert(name).second) v.fail(kv.first, path, "duplicate alias");
    if (name.empty() || name.find_first_of("*?[") != std::string::npos)
      v.fail(kv.first, path, "an alias is a plain model name (no glob characters)");
    const YAML::Node list = kv.second;
    if (!list.IsSequence() || list.size() == 0 || list.size() > kMaxAliasModels) {
      v.fail(list, path, "must be a list of 1 to 8 model names, tried in order");
      continue;
    }
    ModelAlias alias;
    alias.name = name;
    alias.line = kv.first.Mark().line + 1;
    bool ok = true;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      auto model = v.string_value(list[i], item_path);
      if (!model) {
        ok = false;
        continue;
      }
      if (model->empty() || model->find_first_of("*?[") != std::string::npos) {
        v.fail(list[i], item_path, "must be a model name (no glob characters)");
        ok = false;
      } else if (*model == name) {
        v.fail(list[i], item_path, "an alias cannot name itself");
        ok = false;
      } else if (!provider_of_model(c, *model)) {
        v.fail(list[i], item_path, "\"" + *model + "\" matches no model rule (models.rules), so no provider serves it");
        ok = false;
      }
      alias.models.push_back(std::move(*model));
    }
    if (ok) c.model_aliases.push_back(std::move(alias));
  }
}

// `models` is a list of rules, or {rules: [...], aliases: {...}}.
void read_models(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node ms = root["models"];
  if (!ms.IsDefined() || ms.IsNull()) return;
  if (ms.IsSequence()) {
    read_model_rules(v, ms, "models", c);
    return;
  }
  if (!ms.IsMap()) {
    v.fail(ms, "models", "must be a list of {match, provider} or a mapping {rules, aliases}");
    return;
  }
  if (!v.check_mapping(ms, "models", {"rules", "aliases"})) return;
  if (const YAML::Node rules = ms["rules"]; rules.IsDefined() && !rules.IsNull())
    read_model_rules(v, rules, "models.rules", c);
  if (const YAML::Node aliases = ms["aliases"]; aliases.IsDefined() && !aliases.IsNull())
    read_model_aliases(v, aliases, c);
}

// True when the config limits spending in USD (a cost_usd rule or budget, or a cost_usd fan-out budget).
bool limits_usd(const GatewayConfig& c) {
  for (const auto& r : c.limits_policy.rules)
    if (r.unit == LimitUnit::CostUsd) return true;
  for (const auto& b : c.limits_policy.budgets)
    if (b.unit == LimitUnit::CostUsd) return true;
  return c.limits_policy.fanout.enabled && c.limits_policy.fanout.unit == LimitUnit::CostUsd;
}

// Warns for every model the config names for routing (a model rule without glob characters, an alias's models,
// a fallback model) that no price entry covers. A glob rule routes models nobody listed, so it is not checked.
void warn_unpriced_models(Validator& v, const GatewayConfig& c) {
  const auto priced = [&](std::string_view model) {
    for (const auto& p : c.pricing.models)
      if (glob_match(p.pattern, model)) return true;
    return false;
  };
  const std::string where = c.pricing.file.empty() ? std::string("pricing.models") : "pricing.models or " + c.pricing.file;
  const std::string consequence = limits_usd(c)
      ? (c.pricing.unpriced == Unpriced::Deny ? "; under a USD limit its requests are refused (pricing.unpriced: deny)"
         : c.pricing.unpriced == Unpriced::Default ? "; it is charged at pricing.default"
                                                   : "; its requests are not charged in USD (pricing.unpriced: allow)")
      : "; its calls are priced at pricing.default";
  for (const ModelRule& rule : c.models) {
    if (rule.pattern.find_first_of("*?[") != std::string::npos || priced(rule.pattern)) continue;
    v.warn_at(rule.line, rule.key_path + ".match",
              "model \"" + rule.pattern + "\" has no price in " + where + consequence);
  }
  for (const auto& alias : c.model_aliases)
    for (const auto& model : alias.models)
      if (!priced(model))
        v.warn_at(alias.line, "models.aliases." + alias.name,
                  "model \"" + model + "\" has no price in " + where + consequence);
  for (std::size_t r = 0; r < c.routes.size(); ++r)
    for (std::size_t i = 0; i < c.routes[r].fallback.size(); ++i) {
      const std::string& model = c.routes[r].fallback[i].model;
      if (!model.empty() && !priced(model))
        v.warn_at(c.routes[r].line, "routes[" + std::to_string(r) + "].fallback[" + std::to_string(i) + "].model",
                  "model \"" + model + "\" has no price in " + where + consequence);
    }
}

bool is_route_path(const std::string& s) {
  if (s.empty() || s[0] != '/') return false;
  for (unsigned char ch : s)
    if (ch <= 0x20 || ch >= 0x7F || ch == '?' || ch == '#') return false;
  return true;
}

void read_routes(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node rs = root["routes"];
  if (!rs.IsDefined() || !rs.IsSequence() || rs.size() == 0) {
    v.fail(rs.IsDefined() ? rs : root, "routes", "at least one route is required: a list of {path|prefix, api, provider}");
    return;
  }
  std::set<std::pair<std::string, bool>> seen;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const std::string path = "routes[" + std::to_string(i) + "]";
    const YAML::Node n = rs[i];
    if (!v.check_mapping(n, path, {"path", "prefix", "api", "provider", "max_body", "translate", "body",
                                   "retries", "fallback"}))
      continue;
    RouteConfig r;
    r.max_body = c.limits.max_body;
    r.line = n.Mark().line + 1;
    bool ok = true;
    const bool has_path = n["path"].IsDefined(), has_prefix = n["prefix"].IsDefined();
    if (has_path == has_prefix) {
      v.fail(n, path, "needs exactly one of `path` (exact match) or `prefix`");
      ok = false;
    } else {
      const char* key = has_path ? "path" : "prefix";
      r.is_prefix = has_prefix;
      if (auto s = v.string_value(n[key], path + "." + key)) {
        if (!is_route_path(*s)) {
          v.fail(n[key], path + "." + key, "\"" + *s + "\" must start with '/' and hold no spaces, '?', '#' or control bytes");
          ok = false;
        } else if (!seen.insert({*s, r.is_prefix}).second) {
          v.fail(n[key], path + "." + key, "\"" + *s + "\" is already routed by an earlier entry");
          ok = false;
        }
        r.path = *s;
      } else {
        ok = false;
      }
    }
    if (!n["api"].IsDefined()) {
      v.fail(n, path + ".api", "required (openai, anthropic or gemini): the caller's API format");
      ok = false;
    } else if (auto api = v.api_value(n["api"], path + ".api")) {
      r.api = *api;
    } else {
      ok = false;
    }
    if (!n["provider"].IsDefined()) {
      v.fail(n, path + ".provider", "required: the provider for requests that name no routed model");
      ok = false;
    } else if (auto p = v.provider_ref(n["provider"], path + ".provider", c.providers)) {
      r.provider = *p;
      if (ok && c.providers[*p].api != r.api)
        v.fail(n["provider"], path + ".provider",
               "provider \"" + c.providers[*p].name + "\" speaks the " + api_name(c.providers[*p].api) +
                   " API but this route's api is " + api_name(r.api));
    } else {
      ok = false;
    }
    v.size(n, "max_body", path + ".", r.max_body);
    v.optional_string(n, "translate", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s == "true") r.translate = true;
      else if (s == "false") r.translate = false;
      else v.fail(node, path + ".translate", "\"" + s + "\" is not a boolean (true or false)");
    });
    v.optional_string(n, "body", path + ".", [&](const YAML::Node& node, const std::string& s) {
      if (s == "json") r.body = RouteBody::Json;
      else if (s == "raw") r.body = RouteBody::Raw;
      else v.fail(node, path + ".body", "\"" + s + "\" is not a body kind (allowed: json, raw)");
    });
    if (r.api == Api::Gemini && r.body == RouteBody::Raw)
      v.fail(n["body"], path + ".body", "a gemini route reads its model from the path and its body as JSON (body: raw is not supported)");
    read_route_resilience(v, n, path, c, r);  // retries, fallback
    if (ok) c.routes.push_back(std::move(r));
  }
}

// A provider with no key of its own gets only what callers pass through; without pass-through it cannot be used.
void warn_keyless_providers(Validator& v, const YAML::Node& root, const GatewayConfig& c) {
  if (c.passthrough_caller_keys) return;
  for (const auto& p : c.providers) {
    if (!p.api_key.empty()) continue;
    bool has_sources = false;
    for (const auto& [name, sources] : c.credentials.providers) has_sources |= name == p.name;
    if (has_sources) continue;
    const YAML::Node node = root["providers"][p.name];
    v.warn_at(node.IsDefined() ? node.Mark().line + 1 : 0, "providers." + p.name,
              "no api_key and no credentials source, and callers' own keys are not passed through "
              "(credentials.passthrough_caller_keys is false" +
                  std::string(c.auth.enabled ? ", the default with auth" : "") +
                  "): its requests are refused with 503 no_provider_credential");
  }
}

}  // namespace

LoadResult parse_gateway_config(std::string_view yaml_text, const std::string& file_name, const EnvLookup& env) {
  LoadResult result;
  std::map<std::string, std::optional<std::string>>
      variables_read;  // every ${env:NAME} lookup, for the version
  const EnvLookup recording_env = [&](const std::string& name) {
    auto value = env(name);
    variables_read.emplace(name, value);
    return value;
  };
  Validator v(file_name, recording_env);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    v.fail_at(e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    result.errors = std::move(v.errors());
    return result;
  }
  GatewayConfig c;
  if (!v.check_mapping(root, "", {"version", "gateway", "limits", "timeouts", "providers", "models", "routes",
                               "auth", "credentials", "pricing", "usage", "telemetry", "mcp"})) {
    result.errors = std::move(v.errors());
    return result;
  }
  if (!root["version"].IsDefined()) {
    v.fail(root, "version", "required: the schema version, 1");
  } else if (auto s = v.string_value(root["version"], "version"); s && *s != "1") {
    v.fail(root["version"], "version", "unsupported schema version \"" + *s + "\" (supported: 1)");
  }
  try {
    read_gateway_section(v, root, c);
    read_limits_and_timeouts(v, root, c);
    read_providers(v, root, c);
    read_models(v, root, c);
    read_routes(v, root, c);
    read_pricing_section(v, root, file_name, c);
    read_usage_section(v, root, c);
    read_auth_section(v, root, c);
    read_credentials_section(v, root, c);
    read_telemetry_section(v, root, c);
    read_mcp_section(v, root, c);
    if (v.errors().empty()) {
      warn_unpriced_models(v, c);
      warn_keyless_providers(v, root, c);
    }
  } catch (const YAML::Exception& e) {
    v.fail_at(e.mark.line + 1, "", std::string("unexpected YAML structure: ") + e.what());
  }
  if (v.errors().empty()) {
    c.source = file_name;
    c.version = resolved_version(yaml_text, c, std::move(variables_read), env);
    result.config = std::move(c);
  }
  result.errors = std::move(v.errors());
  result.warnings = std::move(v.warnings());
  return result;
}

LoadResult load_gateway_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, "", "cannot open the file"});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_gateway_config(text.str(), path, env);
}

}  // namespace tollway::config
