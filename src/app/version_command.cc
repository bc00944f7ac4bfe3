// `tollway version`: prints the build's version.
#include <iostream>

#include "app/commands.h"
#include "core/version.h"

namespace tollway::app {

void add_version_command(CLI::App& cli, int& exit_code) {
  auto* cmd = cli.add_subcommand("version", "Print the tollway version and exit");
  cmd->callback([&exit_code] {
    std::cout << "tollway " << kVersion << "\n";
    exit_code = 0;
  });
}

}  // namespace tollway::app
