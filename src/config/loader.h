// Loads a gateway config file: YAML, ${env:NAME} / ${env:NAME:-default} interpolation in scalars, then
// validation of the whole document. Errors carry file:line, the key path, what is wrong and what is allowed.
// It never returns a partially valid config and never logs the values it reads (they may be secrets).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"

namespace tollway::config {

struct ConfigError {
  std::string file;
  int line = 0;          // 1-based; 0 when the error is not tied to a line
  std::string key_path;  // e.g. "routes[2].provider"
  std::string message;
  std::string to_string() const;  // "FILE:LINE: key.path: message"
};

struct LoadResult {
  std::optional<GatewayConfig> config;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // the config is valid despite them (e.g. a routed model without a price)
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// A document's own version: the first 12 hex digits of the sha256 of its bytes. The control plane names the
// documents it sends by it (a node's ACK reports it, /config shows it as source_version); GatewayConfig::version
// is the resolved version (config_version.h), which also covers the environment and the files it names.
std::string document_version(std::string_view yaml_text);
// The first line of every document the control plane writes starts with this comment (node, group).
inline constexpr std::string_view kControlDocumentHeader = "# tollway control plane:";
// The version of a document's content: document_version of its bytes after a first line that starts with
// kControlDocumentHeader (of all its bytes when there is none). A node run from its own file reports it, and the
// control plane compares it with the content of the document it would send: the same sections match whether
// or not the file carries the header, and whichever policy revision they came from.
std::string content_version(std::string_view yaml_text);

LoadResult load_gateway_config_file(const std::string& path, const EnvLookup& env = process_environment());
LoadResult parse_gateway_config(std::string_view yaml_text, const std::string& file_name,
                                const EnvLookup& env = process_environment());

}  // namespace tollway::config
