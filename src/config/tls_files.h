// Config-load check of a client's TLS files (a provider's ca_file, the OTLP collector's ca_file, client_cert
// and client_key): builds the TLS context they describe once, so an unreadable file, a file without usable
// PEM data or a key that does not match its certificate is a config error at the key that names it. It never
// keeps the context (the component that connects builds its own) and never logs file contents.
#pragma once

#include <yaml-cpp/yaml.h>

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

}  // namespace tollway::config
