// NodeIdentityFiles: where a node keeps its SPIFFE identity (DIR/svid.key, DIR/svid.pem, DIR/bundle.pem), and which
// directory this process's listeners use for `tls: {identity: node}`. The directory is declared once, at start, by
// the command that runs a node (before its first config is read) and never changes; a process that never declares
// it (the control plane, `tollway validate`) checks documents for other nodes. It never reads or writes the files.
#pragma once

#include <optional>
#include <string>

#include "tls/server_context.h"

namespace tollway::tls {

std::string node_key_path(const std::string& dir);     // DIR/svid.key (0600)
std::string node_cert_path(const std::string& dir);    // DIR/svid.pem: the leaf, then any intermediates
std::string node_bundle_path(const std::string& dir);  // DIR/bundle.pem: the trust bundle

// A node declares its identity directory ("" = it holds no identity). Once, before the first config is read.
void declare_node_identity_dir(std::string dir);
// nullopt when no node was declared (the document is checked for another node); "" for a node without identity.
std::optional<std::string> declared_node_identity_dir();

// A listener serving the node's SVID: client certificates required and verified against the bundle.
ServerTlsFiles node_identity_listener_files(const std::string& dir);

}  // namespace tollway::tls
