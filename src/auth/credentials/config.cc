#include "auth/credentials/config.h"

#include <cstdlib>

namespace tollway::config {

std::string CredentialSourceConfig::label() const {
  switch (kind) {
    case Kind::Env: return "env:" + location;
    case Kind::File: return "file:" + location;
    case Kind::Vault: return "vault:" + location + "#" + vault_field;
  }
  return location;
}

namespace {

void read_source(Validator& v, const YAML::Node& n, const std::string& path, const CredentialsConfig& creds,
                 std::vector<CredentialSourceConfig>& out) {
  if (!v.check_mapping(n, path, {"env", "file", "vault", "field", "weight"})) return;
  CredentialSourceConfig s;
  int kinds = 0;
  for (auto [key, kind] : {std::pair{"env", CredentialSourceConfig::Kind::Env},
                           std::pair{"file", CredentialSourceConfig::Kind::File},
                           std::pair{"vault", CredentialSourceConfig::Kind::Vault}}) {
    if (!n[key].IsDefined()) continue;
    ++kinds;
    s.kind = kind;
    if (auto value = v.string_value(n[key], path + "." + key)) {
      if (value->empty()) v.fail(n[key], path + "." + key, "must not be empty");
      s.location = *value;
    }
  }
  if (kinds != 1) {
    v.fail(n, path, "needs exactly one of env (variable name), file (path) or vault (secret path)");
    return;
  }
  if (n["field"].IsDefined()) {
    if (s.kind != CredentialSourceConfig::Kind::Vault) v.fail(n["field"], path + ".field", "only meaningful with vault");
    if (auto f = v.string_value(n["field"], path + ".field")) s.vault_field = *f;
  }
  if (s.kind == CredentialSourceConfig::Kind::Vault && creds.vault.address.empty())
    v.fail(n, path + ".vault", "needs credentials.vault.address");
  v.optional_string(n, "weight", path + ".", [&](const YAML::Node& node, const std::string& w) {
    char* end = nullptr;
    const long x = std::strtol(w.c_str(), &end, 10);
    if (w.empty() || *end != '\0' || x < 1 || x > 1000) v.fail(node, path + ".weight", "must be an integer 1-1000");
    else s.weight = static_cast<unsigned>(x);
  });
  out.push_back(std::move(s));
}

}  // namespace

void read_credentials_section(Validator& v, const YAML::Node& root, GatewayConfig& c) {
  c.passthrough_caller_keys = !c.auth.enabled;
  const YAML::Node cr = root["credentials"];
  if (!cr.IsDefined() || cr.IsNull()) return;
  if (!v.check_mapping(cr, "credentials", {"vault", "providers", "file_poll", "passthrough_caller_keys"})) return;
  v.optional_string(cr, "passthrough_caller_keys", "credentials.", [&](const YAML::Node& node, const std::string& s) {
    if (s == "true") c.passthrough_caller_keys = true;
    else if (s == "false") c.passthrough_caller_keys = false;
    else v.fail(node, "credentials.passthrough_caller_keys", "\"" + s + "\" is not a boolean (true or false)");
  });
  CredentialsConfig& creds = c.credentials;
  if (const YAML::Node vn = cr["vault"]; vn.IsDefined() && !vn.IsNull()) {
    if (v.check_mapping(vn, "credentials.vault", {"address", "token", "mount", "refresh"})) {
      v.optional_string(vn, "address", "credentials.vault.", [&](const YAML::Node& node, const std::string& s) {
        if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0)
          v.fail(node, "credentials.vault.address", "must be an http:// or https:// URL");
        creds.vault.address = s;
        while (!creds.vault.address.empty() && creds.vault.address.back() == '/') creds.vault.address.pop_back();
      });
      if (creds.vault.address.empty()) v.fail(vn, "credentials.vault.address", "required when vault is configured");
      v.optional_string(vn, "token", "credentials.vault.", [&](const YAML::Node& node, const std::string& s) {
        if (s.find_first_of("\r\n") != std::string::npos) v.fail(node, "credentials.vault.token", "must not contain CR or LF");
        creds.vault.token = s;
      });
      v.optional_string(vn, "mount", "credentials.vault.", [&](const YAML::Node&, const std::string& s) { creds.vault.mount = s; });
      v.duration(vn, "refresh", "credentials.vault.", creds.vault.refresh);
    }
  }
  v.duration(cr, "file_poll", "credentials.", creds.file_poll);
  const YAML::Node ps = cr["providers"];
  if (!ps.IsDefined() || ps.IsNull()) return;
  if (!ps.IsMap()) {
    v.fail(ps, "credentials.providers", "must map provider names to lists of {env|file|vault, weight}");
    return;
  }
  for (const auto& kv : ps) {
    const std::string name = kv.first.as<std::string>();
    const std::string path = "credentials.providers." + name;
    bool known = false;
    std::vector<std::string> names;
    for (const auto& p : c.providers) {
      known |= (p.name == name);
      names.push_back(p.name);
    }
    if (!known) v.fail(kv.first, path, "unknown provider \"" + name + "\" (defined: " + join(names) + ")");
    if (!kv.second.IsSequence() || kv.second.size() == 0) {
      v.fail(kv.second, path, "must be a non-empty list of {env|file|vault, weight}");
      continue;
    }
    std::vector<CredentialSourceConfig> sources;
    for (std::size_t i = 0; i < kv.second.size(); ++i)
      read_source(v, kv.second[i], path + "[" + std::to_string(i) + "]", creds, sources);
    creds.providers.emplace_back(name, std::move(sources));
  }
}

}  // namespace tollway::config
