#include "config/tls_files.h"

#include "tls/client_context.h"
#include "tls/node_identity_files.h"
#include "tls/server_context.h"

namespace tollway::config {
namespace {

// `identity: node`: the node's own SVID and key, client certificates required and verified against its bundle.
void read_node_identity_tls(Validator& v, const YAML::Node& node, const std::string& here,
                            std::optional<tls::ServerTlsFiles>& out) {
  for (const char* other : {"cert_file", "key_file", "client_ca_file", "require_client_cert"}) {
    if (!node[other].IsDefined()) continue;
    v.fail(node[other], here + "." + other, "not with identity: node (the node's SVID, key and bundle are the files)");
    return;
  }
  bool node_identity = false;
  v.optional_string(node, "identity", here + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s == "node") node_identity = true;
    else v.fail(n, here + ".identity", "\"" + s + "\" is not an identity (allowed: node)");
  });
  const auto dir = tls::declared_node_identity_dir();
  if (!node_identity || !dir) return;  // no dir declared: checked for another node, whose files are its own
  if (dir->empty()) {
    v.fail(node["identity"], here + ".identity", "this node holds no identity: start it with --identity-dir");
    return;
  }
  tls::ServerTlsFiles files = tls::node_identity_listener_files(*dir);
  v.optional_string(node, "trust_domain", here + ".",
                    [&](const YAML::Node&, const std::string& s) { files.trust_domain = s; });
  std::optional<tls::ServerTlsError> error;
  tls::load_server_tls(files, error);
  if (error) {
    const bool domain = error->file == tls::ServerTlsError::TrustDomain;
    v.fail(domain ? node["trust_domain"] : node["identity"], here + (domain ? ".trust_domain" : ".identity"),
           error->message);
    return;
  }
  out = std::move(files);
}

}  // namespace

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

void read_listener_tls(Validator& v, const YAML::Node& parent, const char* key, const std::string& path,
                       std::optional<tls::ServerTlsFiles>& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string here = path + key;
  if (!v.check_mapping(node, here, {"cert_file", "key_file", "client_ca_file", "require_client_cert",
                                     "trust_domain", "identity"}))
    return;
  if (node["identity"].IsDefined()) return read_node_identity_tls(v, node, here, out);
  tls::ServerTlsFiles files;
  bool complete = true;
  for (const auto& [required, value] :
       {std::pair{"cert_file", &files.cert_file}, std::pair{"key_file", &files.key_file}}) {
    const std::string name = required;
    std::string* target = value;
    if (!node[name].IsDefined()) {
      v.fail(node, here + "." + name, "required: the path of a PEM file");
      complete = false;
    }
    v.optional_string(node, name.c_str(), here + ".", [&](const YAML::Node& n, const std::string& s) {
      if (s.empty()) {
        v.fail(n, here + "." + name, "must be the path of a PEM file");
        complete = false;
      }
      *target = s;
    });
  }
  v.optional_string(node, "client_ca_file", here + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s.empty()) {
      v.fail(n, here + ".client_ca_file", "must be the path of a PEM file (omit it for no client certificates)");
      complete = false;
    }
    files.client_ca_file = s;
  });
  v.optional_string(node, "require_client_cert", here + ".", [&](const YAML::Node& n, const std::string& s) {
    if (s == "true") files.require_client_cert = true;
    else if (s == "false") files.require_client_cert = false;
    else v.fail(n, here + ".require_client_cert", "\"" + s + "\" is not a boolean (true or false)");
  });
  v.optional_string(node, "trust_domain", here + ".",
                    [&](const YAML::Node&, const std::string& s) { files.trust_domain = s; });
  if (!complete) return;
  std::optional<tls::ServerTlsError> error;
  tls::load_server_tls(files, error);
  if (error) {
    const char* bad = error->file == tls::ServerTlsError::Cert          ? "cert_file"
                      : error->file == tls::ServerTlsError::Key         ? "key_file"
                      : error->file == tls::ServerTlsError::TrustDomain ? "trust_domain"
                      : files.client_ca_file.empty()            ? "require_client_cert"
                                                                : "client_ca_file";
    v.fail(node[bad], here + "." + bad, error->message);
    return;
  }
  out = std::move(files);
}

}  // namespace tollway::config
