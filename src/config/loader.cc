#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "config/auth_section.h"
#include "config/credentials_section.h"
#include "config/limits_section.h"
#include "config/interpolate.h"
#include "config/resilience_section.h"
#include "config/telemetry_section.h"
#include "config/tls_files.h"
#include "config/usage_sections.h"
#include "config/validator.h"
#include "core/glob.h"
#include "core/sha256.h"
#include "core/units.h"

namespace tollway::config {

const char* api_name(Api api) { return api == Api::OpenAI ? "openai" : "anthropic"; }

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

namespace {

std::string short_sha256(std::string_view text) { return sha256_hex(text).substr(0, 12); }

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
    keys.insert(keys.end(), limits_policy_keys().begin(), limits_policy_keys().end());
    if (v.check_mapping(l, "limits", keys)) {
      read_limits_policy(v, l, v.file(), c);
      v.size(l, "max_request_line", "limits.", c.limits.max_request_line);
      v.size(l, "max_header_block", "limits.", c.limits.max_header_block);
      v.size(l, "max_body", "limits.", c.limits.max_body);
      if (c.limits.max_request_line > c.limits.max_header_block)
        v.fail(l, "limits.max_request_line", "must not exceed limits.max_header_block");
    }
  }
  if (const YAML::Node t = root["timeouts"]; t.IsDefined() && !t.IsNull()) {
    if (v.check_mapping(t, "timeouts", {"header_read", "body_read", "idle", "upstream_connect",
                                        "upstream_first_byte", "upstream_total", "drain"})) {
      auto& o = c.timeouts;
      v.duration(t, "header_read", "timeouts.", o.header_read);
      v.duration(t, "body_read", "timeouts.", o.body_read);
      v.duration(t, "idle", "timeouts.", o.idle);
      v.duration(t, "upstream_connect", "timeouts.", o.upstream_connect);
      v.duration(t, "upstream_first_byte", "timeouts.", o.upstream_first_byte);
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
                                   "anthropic_version", "ca_file"}))
      continue;
    if (n["api"].IsDefined()) {
      if (auto api = v.api_value(n["api"], path + ".api")) p.api = *api;
    } else {
      v.fail(n, path + ".api", "required (openai or anthropic)");
    }
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

void read_models(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node ms = root["models"];
  if (!ms.IsDefined() || ms.IsNull()) return;
  if (!ms.IsSequence()) {
    v.fail(ms, "models", "must be a list of {match, provider}");
    return;
  }
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const std::string path = "models[" + std::to_string(i) + "]";
    const YAML::Node n = ms[i];
    if (!v.check_mapping(n, path, {"match", "provider"})) continue;
    ModelRule rule;
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
      v.fail(n, path + ".api", "required (openai or anthropic): the caller's API format");
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
    read_route_resilience(v, n, path, c, r);  // retries, fallback
    if (ok) c.routes.push_back(std::move(r));
  }
}

}  // namespace

LoadResult parse_gateway_config(std::string_view yaml_text, const std::string& file_name, const EnvLookup& env) {
  LoadResult result;
  Validator v(file_name, env);
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
                               "auth", "credentials", "pricing", "usage", "telemetry"})) {
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
  } catch (const YAML::Exception& e) {
    v.fail_at(e.mark.line + 1, "", std::string("unexpected YAML structure: ") + e.what());
  }
  if (v.errors().empty()) {
    c.source = file_name;
    c.version = short_sha256(yaml_text);
    result.config = std::move(c);
  }
  result.errors = std::move(v.errors());
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
