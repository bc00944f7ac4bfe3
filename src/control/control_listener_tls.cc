#include "control/control_listener_tls.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "tls/control_plane_id.h"
#include "tls/renewal_schedule.h"
#include "tls/svid_request.h"

namespace tollway::control {

namespace fs = std::filesystem;

ControlListenerTls::ControlListenerTls(const std::shared_ptr<const CertificateAuthority>& ca, const std::string& state_dir,
                                       std::vector<std::string> host_names, std::chrono::seconds lifetime)
    : ca_(ca),
      dir_((fs::path(state_dir) / "tls").string()),
      host_names_(std::move(host_names)),
      lifetime_(lifetime),
      spiffe_id_(tls::control_plane_id(ca->trust_domain())) {}

std::shared_ptr<const tls::ServerTls> ControlListenerTls::issue(std::string& error) {
  const auto identity = tls::SpiffeId::parse(spiffe_id_, &error);
  if (!identity) return nullptr;
  const auto request = tls::make_svid_request(error);
  if (!request) return nullptr;
  const auto svid = ca_->issue_listener(request->csr_pem, *identity, lifetime_, error, host_names_);
  if (!svid) return nullptr;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  tls::ServerTlsFiles files;
  files.cert_file = (fs::path(dir_) / "control.pem").string();
  files.key_file = (fs::path(dir_) / "control.key").string();
  files.client_ca_file = (fs::path(dir_) / "bundle.pem").string();
  files.require_client_cert = false;
  // A new pair is issued at every start, so a crash between the two writes costs nothing.
  if (!core::write_file_atomically(files.key_file, request->key_pem, 0600, error) ||
      !core::write_file_atomically(files.cert_file, svid->chain_pem, 0644, error) ||
      !core::write_file_atomically(files.client_ca_file, ca_->bundle_pem(), 0644, error))
    return nullptr;
  std::optional<tls::ServerTlsError> load_error;
  auto loaded = tls::load_server_tls(files, load_error);
  if (!loaded) {
    error = load_error->message;
    return nullptr;
  }
  renew_at_ = tls::renewal_time(svid->not_before, svid->not_after, 0.0);
  not_after_ = svid->not_after;
  return loaded;
}

}  // namespace tollway::control
