#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <boost/asio/ssl/context.hpp>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "../test_pki.h"

namespace tollway::tls {
namespace {

TestPki& pki() {
  static TestPki instance;
  return instance;
}

std::optional<ServerTlsError> load_error(const ServerTlsFiles& files) {
  std::optional<ServerTlsError> error;
  const auto loaded = load_server_tls(files, error);
  EXPECT_EQ(loaded == nullptr, error.has_value());
  return error;
}

PeerIdentity identity_of_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  EXPECT_NE(f, nullptr) << path;
  std::unique_ptr<X509, decltype(&X509_free)> certificate(PEM_read_X509(f, nullptr, nullptr, nullptr),
                                                          X509_free);
  std::fclose(f);
  EXPECT_NE(certificate, nullptr) << path;
  return identity_of(certificate.get());
}

TEST(ServerTls, LoadsAMatchingCertificateAndKeyWithTheirStamps) {
  std::optional<ServerTlsError> error;
  const auto loaded =
      load_server_tls({pki().file("server.pem"), pki().file("server.key"), pki().file("ca.pem"), true, ""}, error);
  ASSERT_NE(loaded, nullptr) << error->message;
  EXPECT_NE(loaded->context, nullptr);
  ASSERT_EQ(loaded->stamps.size(), 3u);
  EXPECT_EQ(loaded->stamps, stamp_files(loaded->files));
  EXPECT_GE(loaded->stamps[0].size, 0);
  const SSL_CTX* ctx = loaded->context->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(const_cast<SSL_CTX*>(ctx)), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

TEST(ServerTls, AClientCaWithoutRequireAsksButDoesNotRequire) {
  std::optional<ServerTlsError> error;
  const auto loaded =
      load_server_tls({pki().file("server.pem"), pki().file("server.key"), pki().file("ca.pem"), false, ""}, error);
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(SSL_CTX_get_verify_mode(loaded->context->native_handle()), SSL_VERIFY_PEER);
  const auto plain = load_server_tls({pki().file("server.pem"), pki().file("server.key"), "", false, ""}, error);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(SSL_CTX_get_verify_mode(plain->context->native_handle()), SSL_VERIFY_NONE);
}

int chain_sent_after_certificate(const ServerTls& loaded) {
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(loaded.context->native_handle(), &chain);
  return chain == nullptr ? -1 : sk_X509_num(chain);  // -1: OpenSSL would build it in every handshake
}

TEST(ServerTls, TheChainSentIsFixedAtLoadWithoutTheRoot) {
  std::optional<ServerTlsError> error;
  const auto loaded =
      load_server_tls({pki().file("server.pem"), pki().file("server.key"), pki().file("ca.pem"), true, ""}, error);
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(chain_sent_after_certificate(*loaded), 0);  // issued by the root in the trust store: the leaf alone
  const auto plain = load_server_tls({pki().file("server.pem"), pki().file("server.key"), "", false, ""}, error);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(chain_sent_after_certificate(*plain), 0);  // no issuer known: sent as far as it goes
  // A file carrying its own chain is sent as the file has it.
  const std::string with_chain = pki().file("server-with-chain.pem");
  ASSERT_EQ(std::system(("cat '" + pki().file("server.pem") + "' '" + pki().file("other-ca.pem") + "' > '" +
                         with_chain + "'")
                            .c_str()),
            0);
  const auto carried =
      load_server_tls({with_chain, pki().file("server.key"), pki().file("ca.pem"), true, ""}, error);
  ASSERT_NE(carried, nullptr);
  EXPECT_EQ(chain_sent_after_certificate(*carried), 1);
}

TEST(ServerTls, RefusesAnUnreadableCertificate) {
  const auto error = load_error({pki().file("missing.pem"), pki().file("server.key"), "", false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::Cert);
  EXPECT_NE(error->message.find("cannot read"), std::string::npos) << error->message;
}

TEST(ServerTls, RefusesACertificateFileWithoutPem) {
  const auto error = load_error({pki().file("garbage.pem"), pki().file("server.key"), "", false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::Cert);
  EXPECT_NE(error->message.find("is not a PEM certificate chain"), std::string::npos) << error->message;
}

TEST(ServerTls, RefusesAKeyThatDoesNotMatchTheCertificate) {
  const auto error = load_error({pki().file("server.pem"), pki().file("other.key"), "", false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::Key);
  EXPECT_NE(error->message.find("is not the private key of the certificate"), std::string::npos)
      << error->message;
}

TEST(ServerTls, RefusesAnEncryptedOrMissingKey) {
  auto error = load_error({pki().file("tollway-client.pem"), pki().file("encrypted.key"), "", false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::Key);
  EXPECT_NE(error->message.find("unencrypted PEM private key"), std::string::npos) << error->message;
  error = load_error({pki().file("server.pem"), pki().file("missing.key"), "", false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::Key);
}

TEST(ServerTls, RefusesAnUnparsableOrUnreadableClientCa) {
  auto error = load_error({pki().file("server.pem"), pki().file("server.key"), pki().file("garbage.pem"), true, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::ClientCa);
  EXPECT_NE(error->message.find("is not a PEM file of CA certificates"), std::string::npos) << error->message;
  error = load_error({pki().file("server.pem"), pki().file("server.key"), pki().file("missing-ca.pem"), false, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::ClientCa);
}

TEST(ServerTls, RequireClientCertNeedsAClientCa) {
  const auto error = load_error({pki().file("server.pem"), pki().file("server.key"), "", true, ""});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->file, ServerTlsError::ClientCa);
}

TEST(ServerTls, ATrustDomainMustBeValidAndNeedsAClientCa) {
  std::optional<ServerTlsError> error;
  EXPECT_TRUE(load_server_tls(
      {pki().file("server.pem"), pki().file("server.key"), pki().file("ca.pem"), true, "example.org"}, error))
      << error->message;
  auto refused = load_error({pki().file("server.pem"), pki().file("server.key"), "", false, "example.org"});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->file, ServerTlsError::TrustDomain);
  EXPECT_EQ(refused->message, "trust_domain needs client_ca_file (the CAs to verify with)");
  refused = load_error({pki().file("server.pem"), pki().file("server.key"), pki().file("ca.pem"), true, "Example.org"});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->file, ServerTlsError::TrustDomain);
  EXPECT_EQ(refused->message, "trust domain must be lowercase");
}

TEST(PeerIdentity, ReadsSubjectSansAndTheSpiffeId) {
  const auto identity = identity_of_file(pki().issue(
      "agent-a",
      "subjectAltName=URI:spiffe://example.org/ns/default/sa/agent-a,DNS:agent-a.test,IP:10.0.0.7,IP:::1"
      "\\nextendedKeyUsage=clientAuth"));
  EXPECT_EQ(identity.subject, "CN=agent-a");
  EXPECT_EQ(identity.spiffe_id, "spiffe://example.org/ns/default/sa/agent-a");
  EXPECT_EQ(identity.spiffe_id_error, "");
  EXPECT_EQ(identity.dns_names, std::vector<std::string>{"agent-a.test"});
  EXPECT_EQ(identity.uris, std::vector<std::string>{"spiffe://example.org/ns/default/sa/agent-a"});
  EXPECT_EQ(identity.ip_addresses, (std::vector<std::string>{"10.0.0.7", "::1"}));
}

TEST(PeerIdentity, NoSpiffeIdUnlessExactlyOne) {
  const auto two = identity_of_file(pki().issue(
      "two-ids", "subjectAltName=URI:spiffe://example.org/a,URI:spiffe://example.org/b"));
  EXPECT_EQ(two.spiffe_id, "");
  EXPECT_EQ(two.spiffe_id_error, "the certificate has 2 URI SANs (an X.509-SVID has exactly one)");
  EXPECT_EQ(two.uris.size(), 2u);
  // X.509-SVID: the SPIFFE ID is the only URI SAN; any other URI beside it makes the certificate no SVID.
  const auto extra = identity_of_file(pki().issue(
      "extra-uri", "subjectAltName=URI:spiffe://example.org/a,URI:https://example.org/agent-a"));
  EXPECT_EQ(extra.spiffe_id, "");
  EXPECT_EQ(extra.spiffe_id_error, "the certificate has 2 URI SANs (an X.509-SVID has exactly one)");
  const auto bad = identity_of_file(pki().issue("bad-id", "subjectAltName=URI:spiffe://Example.org/a/"));
  EXPECT_EQ(bad.spiffe_id, "");
  EXPECT_EQ(bad.spiffe_id_error, "invalid SPIFFE ID: trust domain must be lowercase");
  const auto none = identity_of_file(pki().file("tollway-client.pem"));
  EXPECT_EQ(none.spiffe_id, "");
  EXPECT_EQ(none.spiffe_id_error, "");
  EXPECT_TRUE(none.uris.empty());
  EXPECT_EQ(none.subject, "CN=tollway-client");
}

}  // namespace
}  // namespace tollway::tls
