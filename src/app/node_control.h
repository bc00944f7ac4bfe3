// The command-line side of a node under a control plane, shared by every role that runs one (`tollway gateway`,
// `tollway sidecar`): the --control/--node/--token-file/--state-dir options, the node identity options
// (--identity-dir, --join-token-file, --control-ca, --control-spiffe-id), their checks, and the config source a node
// under control boots from. It never prints or logs a token, and never starts a node whose options are incomplete.
#pragma once

#include <boost/asio/io_context.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/client/control_config_source.h"
#include "control/policy_check.h"
#include "proxy/config_source.h"
#include "proxy/node_identity.h"

namespace tollway::app {

struct NodeControlFlags {
  std::string control_urls, node, token_file, state_dir;
  std::string identity_dir, join_token_file, control_ca, control_spiffe_id;
};

// Adds --control (excluding `config_option`), --node, --token-file and --state-dir; returns --control. `role` names
// the node in the help ("gateway", "sidecar").
CLI::Option* add_control_options(CLI::App& cmd, NodeControlFlags& flags, CLI::Option* config_option,
                                 const std::string& role);
// Adds --identity-dir, --join-token-file, --control-ca and --control-spiffe-id.
void add_identity_options(CLI::App& cmd, NodeControlFlags& flags);

// The bootstrap token --token-file holds; "" with --identity-dir (the certificate authenticates the node; a
// --token-file given anyway is not read, and a warning says so).
std::string node_token_of(const NodeControlFlags& flags);

// URL[,URL…] as a list (empty items dropped).
std::vector<std::string> split_urls(const std::string& list);

// The control client's options from the flags; false with the problem on stderr when --control is given without
// what it needs.
bool control_options_of(const NodeControlFlags& flags, control::ControlClientOptions& out);

// With --identity-dir: opens the node's identity (joining with --join-token-file when it holds no valid
// certificate), to speak to `control_urls` (which must be https). Declares the identity directory for
// `tls: {identity: node}` either way. False with the problem on stderr when the options are incomplete or the
// identity cannot be had; `identity` stays null without --identity-dir.
bool open_node_identity(const NodeControlFlags& flags, const std::vector<std::string>& control_urls,
                        std::shared_ptr<proxy::NodeIdentity>& identity);

// The role's own pure check of a document the control plane sent (its prepare with no active snapshot).
using CheckNodeDocument = std::function<control::DocumentVerdict(const std::string& bytes, const std::string& origin)>;

// The source a node under control starts from: the control plane's snapshot when one answers and `check` passes
// it; else the snapshot persisted by the last applied one (static stability), NACKing the refused one; else, with
// nothing persisted, it waits for a control plane to answer.
std::unique_ptr<proxy::ConfigSource> make_control_source(boost::asio::io_context& context,
                                                         const control::ControlClientOptions& options,
                                                         const CheckNodeDocument& check);

}  // namespace tollway::app
