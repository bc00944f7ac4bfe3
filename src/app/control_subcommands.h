// The subcommands of `tollway control` beside the control plane itself: publish and rollback (they write a
// policy to etcd), history and diff (they read STATE_DIR/history.db), token create and certs (they write and
// read STATE_DIR/identity.db). Each registers on `control` and, when chosen, stores the process exit code. No
// command logic here.
#pragma once

#include <CLI/CLI.hpp>

namespace tollway::app {

void add_control_publish_commands(CLI::App& control, int& exit_code);
void add_control_history_commands(CLI::App& control, int& exit_code);
void add_control_identity_commands(CLI::App& control, int& exit_code);

}  // namespace tollway::app
