// libFuzzer target for the CA's CSR intake (tls::read_csr_public_key), the first thing the control plane does with
// bytes a node sends to POST /v1/certs. Invariants: a CSR that is taken is within the size bound, holds exactly one
// PEM block and yields a key of an accepted type (EC P-256/P-384, RSA of 2048 bits or more); one that is refused
// yields no key and a non-empty, printable reason (the input's bytes are never echoed into it).
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "tls/csr_intake.h"

namespace {

constexpr std::size_t kMaxBytes = 16 * 1024;

bool accepted_key(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) return EVP_PKEY_get_bits(key) >= 2048;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1)
    return false;
  const std::string_view name(group, length);
  return name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view pem(reinterpret_cast<const char*>(data), size);
  std::string error;
  const tollway::tls::PublicKey key = tollway::tls::read_csr_public_key(pem, kMaxBytes, error);
  if (!key) {
    FUZZ_CHECK(!error.empty());
    // The reason is ours (and OpenSSL's), never the node's bytes: it is printable ASCII whatever the input holds.
    for (char c : error) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    return 0;
  }
  FUZZ_CHECK(error.empty());
  FUZZ_CHECK(size <= kMaxBytes);
  const std::size_t begin = pem.find("-----BEGIN CERTIFICATE REQUEST-----");
  FUZZ_CHECK(begin != std::string_view::npos);
  FUZZ_CHECK(pem.find("-----BEGIN", begin + 1) == std::string_view::npos);
  FUZZ_CHECK(accepted_key(key.get()));
  return 0;
}
