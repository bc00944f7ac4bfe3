#include "config/tls_files.h"

#include "tls/client_context.h"

namespace tollway::config {

void check_client_tls_files(Validator& v, const YAML::Node& parent, const std::string& path,
                            const ClientTlsFileNames& files) {
  if (files.ca_file.empty() && files.client_cert.empty() && files.client_key.empty()) return;
  std::optional<tls::ClientTlsError> error;
  tls::make_client_context({files.ca_file, files.client_cert, files.client_key}, error);
  // Without ca_file the system trust store is used: its absence is reported when connecting, not a config
  // error.
  if (!error || (error->file == tls::ClientTlsError::Ca && files.ca_file.empty())) return;
  const char* key = error->file == tls::ClientTlsError::Ca     ? "ca_file"
                    : error->file == tls::ClientTlsError::Cert ? "client_cert"
                                                               : "client_key";
  v.fail(parent[key], path + key, error->message);
}

}  // namespace tollway::config
