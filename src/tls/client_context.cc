#include "tls/client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>

#include "tls/pem_loading.h"

namespace tollway::tls {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_client_context(const ClientTlsFiles& files,
                                                               std::optional<ClientTlsError>& error) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  refuse_passphrases(ctx);
  ERR_clear_error();
  auto fail = [&](ClientTlsError::File file, std::string message) {
    error = ClientTlsError{file, std::move(message)};
    return nullptr;
  };
  if (files.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return fail(ClientTlsError::Ca, "cannot load the system trust store: " + openssl_reason());
  } else {
    if (auto why = unreadable_reason(files.ca_file); !why.empty()) return fail(ClientTlsError::Ca, why);
    if (SSL_CTX_load_verify_locations(ctx, files.ca_file.c_str(), nullptr) != 1)
      return fail(ClientTlsError::Ca,
                  "\"" + files.ca_file +
                      "\" is not a PEM file of CA certificates (OpenSSL: " + openssl_reason() + ")");
  }
  if (!files.cert_file.empty()) {
    if (auto why = unreadable_reason(files.cert_file); !why.empty()) return fail(ClientTlsError::Cert, why);
    if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1)
      return fail(ClientTlsError::Cert,
                  "\"" + files.cert_file + "\" is not a PEM certificate (OpenSSL: " + openssl_reason() + ")");
  }
  if (!files.key_file.empty()) {
    if (auto why = use_private_key(ctx, files.key_file, files.cert_file); !why.empty())
      return fail(ClientTlsError::Key, std::move(why));
  }
  if (!files.cert_file.empty()) fix_certificate_chain(ctx);
  return context;
}

bool expect_peer_name(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip_literal(host)) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1;
}

std::string handshake_failure_reason(SSL* ssl) {
  if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  }
  return openssl_reason();
}

}  // namespace tollway::tls
