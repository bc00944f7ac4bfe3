#include "tls/renewal_schedule.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "tls/server_context.h"

namespace tollway::tls {
namespace {

SystemClock::time_point time_of(const ASN1_TIME* t) {
  struct tm parts {};
  ASN1_TIME_to_tm(t, &parts);
  return SystemClock::from_time_t(timegm(&parts));
}

}  // namespace

SystemClock::time_point renewal_time(SystemClock::time_point not_before, SystemClock::time_point not_after,
                                     double jitter) {
  jitter = std::clamp(jitter, -kMaxRenewalJitter, kMaxRenewalJitter);
  const auto lifetime = std::chrono::duration<double>(not_after - not_before);
  return not_before + std::chrono::duration_cast<SystemClock::duration>(lifetime * (kRenewalShare + jitter));
}

std::optional<CertificateValidity> read_certificate_validity(std::string_view pem, std::string& error) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                   X509_free);
  if (!cert) {
    error = "not a PEM certificate";
    return std::nullopt;
  }
  CertificateValidity validity;
  validity.not_before = time_of(X509_get0_notBefore(cert.get()));
  validity.not_after = time_of(X509_get0_notAfter(cert.get()));
  const PeerIdentity identity = identity_of(cert.get());
  if (identity.uris.size() == 1) validity.uri_san = identity.uris.front();
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr),
                                                     BN_free);
  if (serial) {
    char* hex = BN_bn2hex(serial.get());
    validity.serial_hex = hex;
    OPENSSL_free(hex);
  }
  return validity;
}

}  // namespace tollway::tls
