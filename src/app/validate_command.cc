// `tollway validate FILE|DIR`: the offline config check for CI, of a gateway's or a sidecar's document. Exit 0 when valid, 1 with every error otherwise;
// warnings (e.g. a routed model without a price) go to stderr as FILE:LINE and never change the exit code. A
// directory is a control-plane policy, checked exactly as `tollway control` checks it before publishing.
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/node_document_check.h"
#include "control/policy_check.h"
#include "gateway/assembly.h"
#include "gateway/role.h"
#include "proxy/config_source.h"
#include "sidecar/role.h"

namespace tollway::app {
namespace {

// A document whose top-level keys include `sidecar:` (at column 0, outside any comment).
bool is_sidecar_document(const std::string& bytes) {
  return bytes.starts_with("sidecar:") || bytes.find("\nsidecar:") != std::string::npos;
}

}  // namespace

void add_validate_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand(
      "validate", "Check a config file or a control-plane policy directory offline: exit 0 if valid, 1 with its errors");
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, "A gateway config or a sidecar document (YAML; a top-level `sidecar:` key makes it a sidecar's), or a policy directory (see docs/control-plane.md)")->required();
  cmd->callback([file, &exit_code] {
    if (std::error_code ec; std::filesystem::is_directory(*file, ec)) {
      // The control plane's own check: the directory's structure, then every node's document through the
      // gateway's prepare.
      const auto verdict = control::check_policy(*file, check_node_document);
      for (const auto& w : verdict.warnings) std::cerr << "warning: " << w << "\n";
      if (!verdict.policy) {
        for (const auto& e : verdict.errors) std::cerr << e << "\n";
        std::cerr << verdict.errors.size() << (verdict.errors.size() == 1 ? " error" : " errors") << " in " << *file
                  << "\n";
        exit_code = 1;
        return;
      }
      std::cout << "ok: " << *file << " (policy " << verdict.policy->content_hash.substr(0, 12) << "; "
                << verdict.policy->nodes.size() << " nodes)\n";
      exit_code = 0;
      return;
    }
    // Exactly the check a running node makes before applying a config: its role's prepare step (parse, validate,
    // TLS files and URLs checked, the snapshot built), without touching any process state. A document with a
    // top-level `sidecar:` key is a sidecar's; any other, a gateway's.
    boost::asio::io_context unused;
    proxy::FileConfigSource source(unused, *file);
    std::string error;
    auto document = source.read(error);
    std::vector<std::string> errors;
    std::optional<proxy::PreparedSnapshot> prepared;
    const bool sidecar = document && is_sidecar_document(document->bytes);
    if (!document) {
      errors.push_back(error);
    } else {
      std::unique_ptr<proxy::Role> role;
      if (sidecar) role = std::make_unique<sidecar::SidecarRole>();
      else role = std::make_unique<gateway::GatewayRole>();
      auto result = role->prepare(*document, nullptr);
      errors = std::move(result.errors);
      prepared = std::move(result.prepared);
      for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    }
    if (!prepared) {
      for (const auto& e : errors) std::cerr << e << "\n";
      std::cerr << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << *file << "\n";
      exit_code = 1;
      return;
    }
    if (sidecar) {
      const auto& c = *static_cast<const sidecar::SidecarSnapshot&>(*prepared->snapshot).config;
      std::cout << "ok: " << *file << " (sidecar " << c.spiffe_id << ", version " << c.version << "; "
                << c.peers.size() << " peers, " << c.authorization.size() << " authorization rules)\n";
    } else {
      const auto& c = gateway::gateway_config_of(*prepared->snapshot);
      std::cout << "ok: " << *file << " (version " << c.version << "; " << c.providers.size() << " providers, "
                << c.models.size() << " model rules, " << c.routes.size() << " routes)\n";
    }
    exit_code = 0;
  });
}

}  // namespace tollway::app
