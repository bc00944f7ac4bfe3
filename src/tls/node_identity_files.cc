#include "tls/node_identity_files.h"

#include <filesystem>

namespace tollway::tls {
namespace {

// Written once by the node's command before any other thread starts; read-only afterwards.
std::optional<std::string>& declared_dir() {
  static std::optional<std::string> dir;
  return dir;
}

}  // namespace

std::string node_key_path(const std::string& dir) { return (std::filesystem::path(dir) / "svid.key").string(); }
std::string node_cert_path(const std::string& dir) { return (std::filesystem::path(dir) / "svid.pem").string(); }
std::string node_bundle_path(const std::string& dir) { return (std::filesystem::path(dir) / "bundle.pem").string(); }

void declare_node_identity_dir(std::string dir) { declared_dir() = std::move(dir); }

std::optional<std::string> declared_node_identity_dir() { return declared_dir(); }

ServerTlsFiles node_identity_listener_files(const std::string& dir) {
  return ServerTlsFiles{node_cert_path(dir), node_key_path(dir), node_bundle_path(dir), true, ""};
}

}  // namespace tollway::tls
