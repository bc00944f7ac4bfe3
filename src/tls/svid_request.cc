#include "tls/svid_request.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "tls/openssl_handles.h"
#include "tls/pem_loading.h"

namespace tollway::tls {

std::optional<SvidRequest> make_svid_request(std::string& error) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509ReqPtr req(X509_REQ_new());
  if (!key || !req) {
    error = "cannot generate a P-256 key: " + openssl_reason();
    return std::nullopt;
  }
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  const bool built =
      X509_REQ_set_version(req.get(), 0) == 1 &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tollway"), -1, -1,
                                 0) == 1 &&
      X509_REQ_set_pubkey(req.get(), key.get()) == 1 && X509_REQ_sign(req.get(), key.get(), EVP_sha256()) > 0;
  if (!built) {
    error = "cannot sign the certificate request: " + openssl_reason();
    return std::nullopt;
  }
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr csr_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !csr_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509_REQ(csr_bio.get(), req.get()) != 1) {
    error = "cannot write the key or the request as PEM: " + openssl_reason();
    return std::nullopt;
  }
  return SvidRequest{bio_text(key_bio.get()), bio_text(csr_bio.get())};
}

}  // namespace tollway::tls
