// The tollway subcommands. Each add_*_command registers one subcommand, its flags and --help text on the CLI;
// when that subcommand is chosen its callback runs it and stores the process exit code. No command logic here.
#pragma once

#include <CLI/CLI.hpp>

namespace tollway::app {

void add_gateway_command(CLI::App& cli, int& exit_code);
void add_sidecar_command(CLI::App& cli, int& exit_code);
void add_validate_command(CLI::App& cli, int& exit_code);
void add_control_command(CLI::App& cli, int& exit_code);
void add_tokens_command(CLI::App& cli, int& exit_code);
void add_spend_command(CLI::App& cli, int& exit_code);
void add_demo_command(CLI::App& cli, int& exit_code);
void add_sim_command(CLI::App& cli, int& exit_code);
void add_version_command(CLI::App& cli, int& exit_code);
void add_advise_command(CLI::App& cli, int& exit_code);

}  // namespace tollway::app
