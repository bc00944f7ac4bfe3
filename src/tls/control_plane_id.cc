#include "tls/control_plane_id.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "tls/server_context.h"
#include "tls/spiffe_id.h"

namespace tollway::tls {

std::string control_plane_id(std::string_view trust_domain) {
  return "spiffe://" + std::string(trust_domain) + std::string(kControlPlanePath);
}

std::optional<std::string> bundle_trust_domain(std::string_view bundle_pem, std::string& error) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(bundle_pem.data(), static_cast<int>(bundle_pem.size())), BIO_free);
  std::optional<std::string> found;
  int certificates = 0;
  while (X509* read = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(read, X509_free);
    ++certificates;
    for (const std::string& uri : identity_of(cert.get()).uris) {
      const auto id = SpiffeId::parse(uri);
      if (!id) continue;
      if (found && *found != id->trust_domain()) {
        error = "the bundle's roots name two trust domains (" + *found + ", " + std::string(id->trust_domain()) + ")";
        return std::nullopt;
      }
      found = std::string(id->trust_domain());
    }
  }
  ERR_clear_error();  // the read that ended the loop
  if (certificates == 0) error = "the bundle holds no PEM certificate";
  else if (!found) error = "no root of the bundle names a trust domain (a spiffe:// URI SAN)";
  return found;
}

}  // namespace tollway::tls
