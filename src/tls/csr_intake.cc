#include "tls/csr_intake.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/pem_loading.h"

namespace tollway::tls {
namespace {

// "" when the key is of a type the CA signs for, else why not.
std::string key_problem(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1) {
        ERR_clear_error();
        return "the CSR's EC key names no curve";
      }
      const std::string_view name(group, length);
      if (name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384") return "";
      return "the CSR's EC key is on curve " + std::string(name) + " (P-256 or P-384 required)";
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) >= 2048) return "";
      return "the CSR's RSA key has " + std::to_string(EVP_PKEY_get_bits(key)) + " bits (2048 or more required)";
    default:
      return "the CSR's key type is not accepted (EC P-256/P-384 or RSA 2048+)";
  }
}

}  // namespace

PublicKey read_csr_public_key(std::string_view csr_pem, std::size_t max_bytes, std::string& error) {
  if (csr_pem.size() > max_bytes) {
    error = "the CSR is larger than " + std::to_string(max_bytes) + " bytes";
    return nullptr;
  }
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE REQUEST-----";
  const std::size_t begin = csr_pem.find(kBegin);
  if (begin == std::string_view::npos) {
    error = "the CSR is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)";
    return nullptr;
  }
  if (csr_pem.find("-----BEGIN", begin + kBegin.size()) != std::string_view::npos) {
    error = "the CSR holds more than one PEM block";
    return nullptr;
  }
  BioPtr bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    error = "the CSR is malformed: " + openssl_reason();
    return nullptr;
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr) {
    ERR_clear_error();
    error = "the CSR holds no readable public key";
    return nullptr;
  }
  if (std::string problem = key_problem(key); !problem.empty()) {
    error = problem;
    return nullptr;
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    error = "the CSR's signature does not verify with its own public key";
    return nullptr;
  }
  EVP_PKEY_up_ref(key);
  return PublicKey(key);
}

}  // namespace tollway::tls
