// Config-load check of TLS files — a client's (a provider's ca_file, the OTLP collector's ca_file, client_cert
// and client_key) and a listener's (`gateway.tls`, `gateway.admin_tls`): builds the TLS context they describe
// once, so an unreadable file, a file without usable PEM data or a key that does not match its certificate is
// a config error at the key that names it. It never keeps the context (the component that connects or
// listens builds its own) and never logs file contents.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/validator.h"

namespace tollway::config {

struct ClientTlsFileNames {
  std::string ca_file;      // under key "ca_file"; "" = the system trust store (not checked here)
  std::string client_cert;  // under key "client_cert"; "" = none
  std::string client_key;   // under key "client_key"; "" = none
};

// `parent` is the mapping holding the keys, `path` its key path with a trailing '.'.
void check_client_tls_files(Validator& v, const YAML::Node& parent, const std::string& path,
                            const ClientTlsFileNames& files);

// Reads the listener TLS mapping under `parent[key]` (`path` e.g. "gateway.") into `out` and checks its files:
// cert_file and key_file required, client_ca_file, require_client_cert and trust_domain optional; or `identity: node`
// alone (the node's SVID, client certificates required and verified against its bundle; tls/node_identity_files.h).
void read_listener_tls(Validator& v, const YAML::Node& parent, const char* key, const std::string& path,
                       std::optional<tls::ServerTlsFiles>& out);

}  // namespace tollway::config
