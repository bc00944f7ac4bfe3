#include "sidecar/identity_rule.h"

#include "auth/config.h"

namespace tollway::sidecar {

IdentityRuleHead read_identity_rule_head(config::Validator& v, const YAML::Node& r, const std::string& path) {
  IdentityRuleHead head;
  config::read_rule_action(v, r, path, head.deny, head.audit);
  const std::vector<std::string> from = config::read_string_list(v, r["from"], path + ".from");
  if (from.empty()) v.fail(r, path + ".from", "required: the SPIFFE IDs (or patterns) the rule is about");
  for (std::size_t j = 0; j < from.size(); ++j) {
    std::string why;
    if (auto pattern = tls::SpiffeIdPattern::parse(from[j], &why))
      head.from.push_back(std::move(*pattern));
    else
      v.fail(r["from"][j], path + ".from[" + std::to_string(j) + "]", "\"" + from[j] + "\": " + why);
  }
  return head;
}

}  // namespace tollway::sidecar
