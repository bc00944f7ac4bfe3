// tollway: one binary, one subcommand per role or tool (see --help).
#include <exception>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App cli{"tollway: governs the traffic of multi-agent AI systems (gateway, sidecar, control, validate, tokens, spend, demo, advise, sim, version)"};
  cli.require_subcommand(1);
  int exit_code = 0;
  tollway::app::add_gateway_command(cli, exit_code);
  tollway::app::add_sidecar_command(cli, exit_code);
  tollway::app::add_control_command(cli, exit_code);
  tollway::app::add_validate_command(cli, exit_code);
  tollway::app::add_tokens_command(cli, exit_code);
  tollway::app::add_spend_command(cli, exit_code);
  tollway::app::add_demo_command(cli, exit_code);
  tollway::app::add_sim_command(cli, exit_code);
  tollway::app::add_version_command(cli, exit_code);
  tollway::app::add_advise_command(cli, exit_code);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "tollway: " << e.what() << "\n";
    return 1;
  }
  return exit_code;
}
