#include "tls/pem_loading.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tollway::tls {
namespace {

int no_passphrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

std::string unreadable_reason(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "cannot read \"" + path + "\": " + std::strerror(errno);
  std::fclose(f);
  return "";
}

void refuse_passphrases(SSL_CTX* ctx) {
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
}

std::string use_private_key(SSL_CTX* ctx, const std::string& path, const std::string& cert_path) {
  if (auto why = unreadable_reason(path); !why.empty()) return why;
  EVP_PKEY* key = nullptr;
  if (BIO* in = BIO_new_file(path.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(in, nullptr, no_passphrase, nullptr);
    BIO_free(in);
  }
  if (key == nullptr)
    return "\"" + path + "\" is not an unencrypted PEM private key (OpenSSL: " + openssl_reason() + ")";
  const bool matches = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!matches)
    return "\"" + path + "\" is not the private key of the certificate in \"" + cert_path +
           "\" (OpenSSL: " + openssl_reason() + ")";
  return "";
}

void fix_certificate_chain(SSL_CTX* ctx) {
  STACK_OF(X509)* file_chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &file_chain);
  if (file_chain != nullptr && sk_X509_num(file_chain) > 0) return;  // sent as the file has it, never rebuilt
  SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
                                    SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
}

}  // namespace tollway::tls
