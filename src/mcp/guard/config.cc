#include "mcp/guard/config.h"

#include <algorithm>
#include <charconv>

#include "auth/config.h"
#include "limits/admission/config.h"
#include "config/tls_files.h"
#include "core/glob.h"
#include "core/units.h"

namespace tollway::config {
namespace {

std::vector<std::string> read_patterns(Validator& v, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> patterns = read_string_list(v, node, path);
  for (std::size_t i = 0; i < patterns.size(); ++i)
    if (const auto why = glob_syntax_error(patterns[i]); !why.empty())
      v.fail(node[i], path + "[" + std::to_string(i) + "]", "\"" + patterns[i] + "\": " + std::string(why));
  return patterns;
}

// An HTTP header name (RFC 9110 token) that is not hop-by-hop or framing: the gateway sets it on the request.
bool settable_header(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view reserved : {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te",
                                    "trailer", "upgrade", "proxy-connection", "mcp-session-id", "mcp-protocol-version"})
    if (lower == reserved) return false;
  return true;
}

GatewayMcpRule read_rule(Validator& v, const YAML::Node& r, const std::string& path) {
  GatewayMcpRule rule;
  rule.line = r.Mark().line + 1;
  if (!v.check_mapping(r, path, {"action", "mode", "from", "tools", "resources", "prompts"})) return rule;
  read_rule_action(v, r, path, rule.deny, rule.audit);
  const YAML::Node from = r["from"];
  if (from.IsDefined() && !from.IsNull() &&
      v.check_mapping(from, path + ".from", {"tenants", "agent_groups", "agents", "keys"})) {
    rule.from.tenants = read_patterns(v, from["tenants"], path + ".from.tenants");
    rule.from.agent_groups = read_patterns(v, from["agent_groups"], path + ".from.agent_groups");
    rule.from.agents = read_patterns(v, from["agents"], path + ".from.agents");
    rule.from.keys = read_patterns(v, from["keys"], path + ".from.keys");
  }
  rule.targets = read_mcp_targets(v, r, path);
  return rule;
}

McpToolLimit read_limit(Validator& v, const YAML::Node& n, const std::string& path, const McpServerConfig& server) {
  McpToolLimit limit;
  limit.line = n.Mark().line + 1;
  if (!v.check_mapping(n, path, {"name", "tools", "per", "limit", "window"})) return limit;
  for (const char* key : {"name", "tools", "limit", "window"})
    if (!n[key].IsDefined()) v.fail(n, path + "." + key, "required");
  v.optional_string(n, "name", path + ".", [&](const YAML::Node& node, const std::string& text) {
    if (!valid_limit_name(text))
      return v.fail(node, path + ".name", "\"" + text + "\" is not a name (letters, digits, '-', '_', '.'; 1-64)");
    for (const auto& other : server.limits)
      if (other.name == text) return v.fail(node, path + ".name", "\"" + text + "\" is already a limit's name");
    limit.name = text;
  });
  limit.tools = read_patterns(v, n["tools"], path + ".tools");
  const std::vector<std::string> per = read_string_list(v, n["per"], path + ".per");
  for (std::size_t i = 0; i < per.size(); ++i) {
    bool* flag = per[i] == "tool" ? &limit.per_tool : per[i] == "tenant" ? &limit.per_tenant
               : per[i] == "agent" ? &limit.per_agent : per[i] == "key" ? &limit.per_key : nullptr;
    if (flag == nullptr) v.fail(n["per"][i], path + ".per", "\"" + per[i] + "\" is not tool, tenant, agent or key");
    else if (*flag) v.fail(n["per"][i], path + ".per", "\"" + per[i] + "\" is listed twice");
    else *flag = true;
  }
  v.optional_string(n, "limit", path + ".", [&](const YAML::Node& node, const std::string& text) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 1'000'000'000)
      return v.fail(node, path + ".limit", "\"" + text + "\" is not a whole number from 1 to 1000000000");
    limit.limit = value;
  });
  v.optional_string(n, "window", path + ".", [&](const YAML::Node& node, const std::string& text) {
    if (auto window = parse_limit_window(text)) limit.window = *window;
    else v.fail(node, path + ".window", "\"" + text + "\" is not a window (1s to 31d, e.g. 1s, 1m, 1h, 1d)");
  });
  return limit;
}

bool is_route_path(const GatewayConfig& c, std::string_view path) {
  for (const auto& r : c.routes)
    if (!r.is_prefix && r.path == path) return true;
  return false;
}

void read_server(Validator& v, const YAML::Node& s, const std::string& path, GatewayConfig& c) {
  if (!v.check_mapping(s, path, {"name", "path", "url", "ca_file", "headers", "max_message_bytes", "rules", "limits"}))
    return;
  McpServerConfig server;
  server.line = s.Mark().line + 1;
  for (const char* key : {"name", "path", "url"})
    if (!s[key].IsDefined()) v.fail(s, path + "." + key, "required");
  v.optional_string(s, "name", path + ".", [&](const YAML::Node& n, const std::string& text) {
    const bool valid = !text.empty() && text.size() <= 32 &&
                       text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
    if (!valid) return v.fail(n, path + ".name", "1 to 32 of a-z, 0-9 and '-'");
    for (const auto& other : c.mcp.servers)
      if (other.name == text) return v.fail(n, path + ".name", "\"" + text + "\" is already a server's name");
    server.name = text;
  });
  v.optional_string(s, "path", path + ".", [&](const YAML::Node& n, const std::string& text) {
    if (!text.starts_with('/') || text.find_first_of("?# ") != std::string::npos || text.starts_with("/v1/") ||
        text == "/v1")
      return v.fail(n, path + ".path", "a path starts with '/', has no query and is not under /v1 (LLM calls)");
    if (is_route_path(c, text)) return v.fail(n, path + ".path", "\"" + text + "\" is already a route's path");
    for (const auto& other : c.mcp.servers)
      if (other.path == text) return v.fail(n, path + ".path", "\"" + text + "\" is already a server's path");
    server.path = text;
  });
  if (s["url"].IsDefined()) {
    ProviderConfig parsed;
    v.base_url(s["url"], path + ".url", parsed);
    server.endpoint = {s["url"].IsScalar() ? s["url"].Scalar() : "", parsed.tls, parsed.host, parsed.port,
                       parsed.path_prefix.empty() ? "/" : parsed.path_prefix, 1};
  }
  v.optional_string(s, "ca_file", path + ".", [&](const YAML::Node& n, const std::string& text) {
    if (!server.endpoint.tls) return v.fail(n, path + ".ca_file", "only meaningful with an https:// url");
    server.ca_file = text;
  });
  if (!server.ca_file.empty()) check_client_tls_files(v, s, path + ".", {server.ca_file, "", ""});
  const YAML::Node headers = s["headers"];
  if (headers.IsDefined() && !headers.IsNull()) {
    if (!headers.IsMap()) {
      v.fail(headers, path + ".headers", "must be a mapping of header name -> value");
    } else {
      for (const auto& kv : headers) {
        const std::string name = kv.first.as<std::string>();
        const std::string key = path + ".headers." + name;
        if (!settable_header(name)) {
          v.fail(kv.first, key, "not a header the gateway may set (an HTTP token, not Host, framing or MCP's own)");
          continue;
        }
        if (auto value = v.string_value(kv.second, key)) {
          if (value->find_first_of("\r\n") != std::string::npos) v.fail(kv.second, key, "a value has no line break");
          else server.headers.emplace_back(name, std::move(*value));
        }
      }
    }
  }
  v.optional_string(s, "max_message_bytes", path + ".", [&](const YAML::Node& n, const std::string& text) {
    const auto bytes = units::parse_size(text);
    if (!bytes || *bytes < 1024 || *bytes > (64ull << 20))
      return v.fail(n, path + ".max_message_bytes", "must be a size from 1KiB to 64MiB (e.g. 4MiB)");
    server.max_message_bytes = *bytes;
  });
  const YAML::Node rules = s["rules"];
  if (rules.IsDefined() && !rules.IsNull()) {
    if (!rules.IsSequence()) {
      v.fail(rules, path + ".rules", "must be a list of rules");
    } else {
      for (std::size_t i = 0; i < rules.size(); ++i)
        server.rules.push_back(read_rule(v, rules[i], path + ".rules[" + std::to_string(i) + "]"));
    }
  }
  const YAML::Node limits = s["limits"];
  if (limits.IsDefined() && !limits.IsNull()) {
    if (!limits.IsSequence()) {
      v.fail(limits, path + ".limits", "must be a list of {name, tools, per, limit, window}");
    } else {
      for (std::size_t i = 0; i < limits.size(); ++i)
        server.limits.push_back(read_limit(v, limits[i], path + ".limits[" + std::to_string(i) + "]", server));
    }
  }
  c.mcp.servers.push_back(std::move(server));
}

}  // namespace

mcp::McpTargets read_mcp_targets(Validator& v, const YAML::Node& r, const std::string& path) {
  mcp::McpTargets t;
  t.tools = read_patterns(v, r["tools"], path + ".tools");
  t.resources = read_patterns(v, r["resources"], path + ".resources");
  t.prompts = read_patterns(v, r["prompts"], path + ".prompts");
  if (t.tools.empty() && t.resources.empty() && t.prompts.empty())
    v.fail(r, path, "a rule names tools, resources or prompts (glob patterns; \"*\" for all)");
  return t;
}

void read_mcp_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  const YAML::Node node = root["mcp"];
  if (!node.IsDefined() || node.IsNull()) return;
  if (!v.check_mapping(node, "mcp", {"servers"})) return;
  const YAML::Node servers = node["servers"];
  if (!servers.IsSequence() || servers.size() == 0)
    return v.fail(servers.IsDefined() ? servers : node, "mcp.servers",
                  "required: a list of {name, path, url, rules} (MCP servers exposed through the gateway)");
  if (!c.auth.enabled)
    v.fail(node, "mcp", "needs auth: the gateway decides MCP calls by the authenticated caller (tenant, agent, key)");
  for (std::size_t i = 0; i < servers.size(); ++i)
    read_server(v, servers[i], "mcp.servers[" + std::to_string(i) + "]", c);
}

}  // namespace tollway::config
