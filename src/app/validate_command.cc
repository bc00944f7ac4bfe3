// `tollway validate FILE`: the offline config check for CI. Exit 0 when valid, 1 with every error otherwise;
// warnings (e.g. a routed model without a price) go to stderr as FILE:LINE and never change the exit code.
#include <iostream>

#include "app/commands.h"
#include "config/loader.h"

namespace tollway::app {

void add_validate_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("validate", "Check a config file offline: exit 0 if valid, 1 with its errors");
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Config file (YAML)")->required();
  cmd->callback([file, &exit_code] {
    const auto result = config::load_gateway_config_file(*file);
    for (const auto& w : result.warnings) std::cerr << "warning: " << w.to_string() << "\n";
    if (!result.config) {
      for (const auto& e : result.errors) std::cerr << e.to_string() << "\n";
      std::cerr << result.errors.size() << (result.errors.size() == 1 ? " error" : " errors") << " in " << *file
                << "\n";
      exit_code = 1;
      return;
    }
    const auto& c = *result.config;
    std::cout << "ok: " << *file << " (version " << c.version << "; " << c.providers.size() << " providers, "
              << c.models.size() << " model rules, " << c.routes.size() << " routes)\n";
    exit_code = 0;
  });
}

}  // namespace tollway::app
