#include "tls/server_context.h"

#include <algorithm>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <strings.h>

#include "tls/handshake_refusal.h"
#include "tls/pem_loading.h"
#include "tls/spiffe_id.h"

namespace tollway::tls {
namespace {

// TLS 1.2 suites: ECDHE key exchange and AEAD only (TLS 1.3 suites are all of that kind and keep OpenSSL's
// default list).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Sessions resumed with a client certificate must be resumed in the same context they were made in.
constexpr unsigned char kSessionIdContext[] = "tollway";

std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string ip_text(const ASN1_OCTET_STRING* s) {
  const int length = ASN1_STRING_length(s);
  const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text) == nullptr) return "";
  return text;
}

std::string subject_text(X509* certificate) {
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return "";
  X509_NAME_print_ex(out, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<std::size_t>(length > 0 ? length : 0));
  BIO_free(out);
  return text;
}

// The SSL_CTX ex_data slot holding the listener's trust domain (a std::string the context owns).
int trust_domain_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(data);
      });
  return slot;
}

// Verify callback of a listener with a trust domain: a chain that verified must end in an X.509-SVID of it.
int verify_spiffe_member(int preverified, X509_STORE_CTX* store) {
  if (preverified != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverified;
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* trust_domain = static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), trust_domain_slot()));
  if (trust_domain == nullptr) return 1;
  const PeerIdentity identity = identity_of(X509_STORE_CTX_get_current_cert(store));
  HandshakeRefusal refusal;
  if (identity.spiffe_id.empty())
    refusal = HandshakeRefusal::BadSpiffeId;
  else if (!SpiffeId::parse(identity.spiffe_id)->member_of(*trust_domain))
    refusal = HandshakeRefusal::OtherTrustDomain;
  else
    return 1;
  mark_spiffe_refusal(ssl, refusal);
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

std::vector<core::FileStamp> stamp_files(const ServerTlsFiles& files) {
  std::vector<core::FileStamp> stamps{core::stamp_file(files.cert_file), core::stamp_file(files.key_file)};
  if (!files.client_ca_file.empty()) stamps.push_back(core::stamp_file(files.client_ca_file));
  return stamps;
}

std::shared_ptr<const ServerTls> load_server_tls(const ServerTlsFiles& files,
                                                 std::optional<ServerTlsError>& error) {
  namespace ssl = boost::asio::ssl;
  auto fail = [&](ServerTlsError::File file, std::string message) {
    error = ServerTlsError{file, std::move(message)};
    return nullptr;
  };
  if (files.require_client_cert && files.client_ca_file.empty())
    return fail(ServerTlsError::ClientCa, "require_client_cert needs client_ca_file (the CAs to verify with)");
  if (!files.trust_domain.empty()) {
    if (files.client_ca_file.empty())
      return fail(ServerTlsError::TrustDomain, "trust_domain needs client_ca_file (the CAs to verify with)");
    if (auto why = SpiffeId::check_trust_domain(files.trust_domain); !why.empty())
      return fail(ServerTlsError::TrustDomain, std::move(why));
  }
  auto loaded = std::make_shared<ServerTls>();
  loaded->files = files;
  loaded->stamps = stamp_files(files);
  loaded->context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = loaded->context->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    return fail(ServerTlsError::Cert, "OpenSSL refused the cipher list: " + openssl_reason());
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  refuse_passphrases(ctx);

  if (auto why = unreadable_reason(files.cert_file); !why.empty()) return fail(ServerTlsError::Cert, why);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1)
    return fail(ServerTlsError::Cert, "\"" + files.cert_file + "\" is not a PEM certificate chain (OpenSSL: " +
                                          openssl_reason() + ")");
  if (auto why = use_private_key(ctx, files.key_file, files.cert_file); !why.empty())
    return fail(ServerTlsError::Key, std::move(why));

  if (!files.client_ca_file.empty()) {
    if (auto why = unreadable_reason(files.client_ca_file); !why.empty())
      return fail(ServerTlsError::ClientCa, why);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(ctx, files.client_ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return fail(ServerTlsError::ClientCa, "\"" + files.client_ca_file +
                                                "\" is not a PEM file of CA certificates (OpenSSL: " +
                                                openssl_reason() + ")");
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership; the names a client picks its certificate by
    if (!files.trust_domain.empty())
      SSL_CTX_set_ex_data(ctx, trust_domain_slot(), new std::string(files.trust_domain));
    SSL_CTX_set_verify(ctx,
                       SSL_VERIFY_PEER | (files.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       files.trust_domain.empty() ? nullptr : verify_spiffe_member);
  }
  fix_certificate_chain(ctx);
  return loaded;
}

PeerIdentity identity_of(X509* certificate) {
  PeerIdentity identity;
  identity.subject = subject_text(certificate);
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return identity;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      identity.dns_names.push_back(asn1_text(name->d.dNSName));
    } else if (name->type == GEN_URI) {
      identity.uris.push_back(asn1_text(name->d.uniformResourceIdentifier));
    } else if (name->type == GEN_IPADD) {
      if (std::string ip = ip_text(name->d.iPAddress); !ip.empty()) identity.ip_addresses.push_back(ip);
    }
  }
  GENERAL_NAMES_free(names);
  // X.509-SVID: exactly one URI SAN, and it is a SPIFFE ID.
  const bool any_spiffe_uri = std::any_of(identity.uris.begin(), identity.uris.end(), [](const std::string& uri) {
    return uri.size() >= 7 && strncasecmp(uri.c_str(), "spiffe:", 7) == 0;
  });
  if (!any_spiffe_uri) return identity;
  if (identity.uris.size() != 1) {
    identity.spiffe_id_error = "the certificate has " + std::to_string(identity.uris.size()) +
                               " URI SANs (an X.509-SVID has exactly one)";
  } else if (!SpiffeId::parse(identity.uris.front(), &identity.spiffe_id_error)) {
    identity.spiffe_id_error = "invalid SPIFFE ID: " + identity.spiffe_id_error;
  } else {
    identity.spiffe_id = identity.uris.front();
  }
  return identity;
}

std::optional<PeerIdentity> verified_peer_identity(SSL* ssl) {
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  return identity_of(certificate);
}

}  // namespace tollway::tls
