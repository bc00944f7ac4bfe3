// The subcommands of `tollway control` beside the control plane itself: publish and rollback (they write a
// policy to etcd), history and diff (they read STATE_DIR/history.db), token create and certs (they write and
// read STATE_DIR/identity.db). Each registers on `control` and, when chosen, stores the process exit code; and the
// --etcd-ca/--etcd-cert/--etcd-key options every command that speaks to etcd takes. No command logic here.
#pragma once

#include <CLI/CLI.hpp>

#include "control/etcd/etcd_client.h"

namespace tollway::app {

void add_etcd_tls_options(CLI::App& cmd, control::etcd::EtcdTlsFiles& tls);
void add_control_publish_commands(CLI::App& control, int& exit_code);
void add_control_history_commands(CLI::App& control, int& exit_code);
void add_control_identity_commands(CLI::App& control, int& exit_code);

}  // namespace tollway::app
