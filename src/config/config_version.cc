#include "config/config_version.h"

#include <algorithm>

#include "core/sha256.h"

namespace tollway::config {
namespace {

// Length-prefixed, so that no two different input lists encode to the same bytes.
void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

void append_inputs(std::string& out, std::string_view kind, std::vector<VersionInput> inputs) {
  std::sort(inputs.begin(), inputs.end(),
            [](const VersionInput& a, const VersionInput& b) { return a.name < b.name; });
  append_field(out, kind);
  out += std::to_string(inputs.size());
  out += ';';
  for (const auto& input : inputs) {
    append_field(out, input.name);
    if (input.value) {
      out += '=';
      append_field(out, *input.value);
    } else {
      out += '-';
    }
  }
}

std::string relative_to(const std::string& directory, const std::string& path) {
  if (path.empty() || path[0] == '/' || directory.empty()) return path;
  return directory + "/" + path;
}

// The directory relative JWKS and credential files are read from (as auth's config_directory computes it).
std::string directory_of(const std::string& config_path) {
  const auto slash = config_path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return config_path.substr(0, slash);
}

}  // namespace

std::string config_version(const VersionInputs& inputs) {
  std::string encoded;
  append_field(encoded, inputs.document);
  append_inputs(encoded, "env", inputs.environment);
  append_inputs(encoded, "files", inputs.files);
  return sha256_hex(encoded).substr(0, 12);
}

std::vector<std::string> referenced_files(const GatewayConfig& config) {
  std::vector<std::string> files;
  auto add = [&files](const std::string& path) {
    if (!path.empty() && std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  };
  add(config.pricing.file);
  for (const auto& provider : config.providers) add(provider.ca_file);
  for (const auto& listener : {config.tls, config.admin_tls}) {
    if (!listener) continue;
    add(listener->cert_file);
    add(listener->key_file);
    add(listener->client_ca_file);
  }
  const OtlpConfig& otlp = config.telemetry.otlp;
  add(otlp.ca_file);
  add(otlp.client_cert);
  add(otlp.client_key);
  const std::string directory = directory_of(config.source);
  for (const auto& issuer : config.auth.jwt_issuers) add(relative_to(directory, issuer.jwks_file));
  for (const auto& [provider, sources] : config.credentials.providers)
    for (const auto& source : sources)
      if (source.kind == CredentialSourceConfig::Kind::File) add(relative_to(directory, source.location));
  return files;
}

std::vector<std::string> referenced_variables(const GatewayConfig& config) {
  std::vector<std::string> names;
  for (const auto& [provider, sources] : config.credentials.providers)
    for (const auto& source : sources)
      if (source.kind == CredentialSourceConfig::Kind::Env) names.push_back(source.location);
  return names;
}

}  // namespace tollway::config
