// The common head of the sidecar's identity rules (the inbound `authorization` rules, `mcp.rules`, `a2a.rules`):
// `action` (allow or deny, required), `mode` (enforce or audit) and `from` (SPIFFE IDs, exact or with `*` path
// segments, required). Reading only validates and converts, with file:line; it never logs a value it reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/validator.h"
#include "tls/spiffe_id_pattern.h"

namespace tollway::sidecar {

struct IdentityRuleHead {
  bool deny = false;
  bool audit = false;
  std::vector<tls::SpiffeIdPattern> from;
};

// Reads action, mode and from of rule `r` at `path` (e.g. "mcp.rules[2]").
IdentityRuleHead read_identity_rule_head(config::Validator& v, const YAML::Node& r, const std::string& path);

}  // namespace tollway::sidecar
