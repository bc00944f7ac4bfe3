// libFuzzer target for reading and checking a whole policy (control::check_policy: the policy directory's files —
// shared sections, sidecars/, groups/, nodes.yaml — then every declared node's resolved document), as `tollway
// validate DIR`, `tollway control` and `control publish` run it. The input is a policy: records that each start with
// a line `@@ PATH` (a policy file's relative path) followed by the file's bytes; records whose path is not a policy
// file's are dropped, as reading a directory drops them. Each node's document goes to its role's config reader
// (the gateway's or the sidecar's) in place of the role's full prepare. Invariants: a verdict has a checked policy
// and no error, or errors and no policy; every error and warning names a file of the policy or a node; a
// checked policy has one document per declared node; checking the same bytes twice gives the same verdict.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "control/policy_check.h"
#include "fuzz_check.h"
#include "sidecar/config.h"

namespace {

using tollway::control::DocumentVerdict;
using tollway::control::NodeRole;
using tollway::control::PolicyFiles;
using tollway::control::PolicyVerdict;

constexpr std::string_view kRoot = "policy";
constexpr std::string_view kRecord = "@@ ";

PolicyFiles policy_of(std::string_view input) {
  PolicyFiles files;
  files.root = kRoot;
  std::size_t at = input.starts_with(kRecord) ? 0 : input.find("\n@@ ");
  while (at != std::string_view::npos) {
    if (input[at] == '\n') ++at;
    const std::size_t path_end = input.find('\n', at);
    const std::string_view path = input.substr(at + kRecord.size(), path_end == std::string_view::npos
                                                                         ? std::string_view::npos
                                                                         : path_end - at - kRecord.size());
    const std::size_t body = path_end == std::string_view::npos ? input.size() : path_end + 1;
    const std::size_t next = input.find("\n@@ ", body > 0 ? body - 1 : 0);
    const std::string_view bytes = input.substr(body, next == std::string_view::npos ? std::string_view::npos : next + 1 - body);
    if (tollway::control::is_policy_file(path)) files.files[std::string(path)] = std::string(bytes);
    at = next;
  }
  return files;
}

std::optional<std::string> no_environment(const std::string&) { return std::nullopt; }

DocumentVerdict check_document(NodeRole role, const std::string& bytes, const std::string& origin) {
  DocumentVerdict verdict;
  const auto read = [&](const auto& result) {
    verdict.ok = result.config.has_value();
    for (const auto& e : result.errors) verdict.errors.push_back(e.to_string());
  };
  if (role == NodeRole::Sidecar) read(tollway::sidecar::parse_sidecar_config(bytes, origin, no_environment));
  else read(tollway::config::parse_gateway_config(bytes, origin, no_environment));
  return verdict;
}

void check_messages(const std::vector<std::string>& messages) {
  for (const auto& m : messages) {
    FUZZ_CHECK(!m.empty());
    FUZZ_CHECK(m.starts_with(std::string(kRoot) + "/") || m.starts_with("node "));  // a file's line, or a node
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const PolicyFiles files = policy_of(std::string_view(reinterpret_cast<const char*>(data), size));
  const PolicyVerdict verdict = tollway::control::check_policy(files, check_document);
  FUZZ_CHECK(verdict.policy.has_value() == verdict.errors.empty());
  check_messages(verdict.errors);
  check_messages(verdict.warnings);
  if (verdict.policy) FUZZ_CHECK(verdict.policy->documents.size() == verdict.policy->nodes.size());
  const PolicyVerdict again = tollway::control::check_policy(files, check_document);
  FUZZ_CHECK(again.errors == verdict.errors && again.warnings == verdict.warnings);
  return 0;
}
