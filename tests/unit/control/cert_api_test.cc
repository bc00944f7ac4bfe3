// CertApi on its own (no listener): POST /v1/certs issues for the join token's identity whatever the CSR asks
// for, refuses a replayed token, leaves the token usable after a refused body or CSR, and GET /v1/bundle serves
// PEM or JWKS; renews for a verified client certificate of this CA (its SPIFFE ID, not the CSR's) and refuses
// one of another CA or trust domain. The CSR is made by the openssl CLI.
#include "control/cert_api.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::control {
namespace {

namespace fs = std::filesystem;

class CertApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tollway-cert-api-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string error;
    ca_ = CertificateAuthority::open_state_dir((dir_ / "state").string(), "example.org", error);
    ASSERT_TRUE(ca_) << error;
    store_ = IdentityStore::open("", false, error);
    ASSERT_TRUE(store_ && store_->set_trust_domain("example.org", error)) << error;
    api_ = std::make_unique<CertApi>(ca_, *store_, std::chrono::hours(1));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A key and a CSR made by openssl, asking for spiffe://example.org/ns/admin/sa/root.
  std::string csr() const {
    const std::string command = "cd '" + dir_.string() +
                                "' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                                "-keyout node.key -out node.csr -subj /CN=n "
                                "-addext subjectAltName=URI:spiffe://example.org/ns/admin/sa/root 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0);
    std::ifstream in(dir_ / "node.csr");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string token(std::string_view identity) {
    std::string error;
    const auto minted = store_->mint(*tls::SpiffeId::parse(identity), std::chrono::hours(1),
                                     IdentityStore::Clock::now(), error);
    EXPECT_TRUE(minted) << error;
    return minted ? minted->token : "";
  }
  proxy::AdminResponse post(std::string body) {
    proxy::AdminRequest request;
    request.method = "POST";
    request.path = "/v1/certs";
    request.body = std::move(body);
    return api_->certs(request);
  }
  proxy::AdminResponse post(std::string_view csr_pem, std::string_view join_token) {
    json::ObjectWriter w;
    w.field("csr", csr_pem).field("token", join_token);
    return post(std::move(w).finish());
  }
  static std::string member(const proxy::AdminResponse& r, std::string_view key) {
    std::string error;
    const auto body = core::strict_json::parse(r.body, error);
    if (!body || !body->is_object()) return "not JSON: " + error;
    if (const auto* e = body->find("error"); e && e->is_object()) {
      const auto* v = e->find(key);
      return v && v->is_string() ? v->as_string() : "";
    }
    const auto* v = body->find(key);
    return v && v->is_string() ? v->as_string() : "";
  }

  fs::path dir_;
  std::shared_ptr<const CertificateAuthority> ca_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<CertApi> api_;
};

TEST_F(CertApiTest, IssuesForTheTokensIdentityOnceAndRecordsIt) {
  const std::string join = token("spiffe://example.org/ns/prod/sa/web");
  const std::string request = csr();
  const auto issued = post(request, join);
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(member(issued, "spiffe_id"), "spiffe://example.org/ns/prod/sa/web");
  EXPECT_EQ(member(issued, "bundle"), ca_->bundle_pem());
  EXPECT_NE(member(issued, "certificate").find("BEGIN CERTIFICATE"), std::string::npos);

  const auto replay = post(request, join);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(member(replay, "code"), "invalid_token");
  EXPECT_NE(member(replay, "message").find("already used"), std::string::npos) << replay.body;

  std::string error;
  const auto audit = store_->audit(error);
  ASSERT_TRUE(audit) << error;
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ(audit->back().event, "certificate_issued");
  EXPECT_EQ(audit->back().serial, member(issued, "serial"));
  EXPECT_EQ(audit->back().not_after, member(issued, "not_after"));
}

TEST_F(CertApiTest, RefusedBodiesAndCsrsLeaveTheTokenUsable) {
  const std::string join = token("spiffe://example.org/ns/prod/sa/web");
  EXPECT_EQ(member(post("{\"csr\": "), "code"), "invalid_json");
  EXPECT_EQ(member(post("[]"), "code"), "invalid_json");
  EXPECT_EQ(member(post("{\"token\":\"" + join + "\"}"), "code"), "missing_field");
  EXPECT_EQ(member(post("{\"csr\":1,\"token\":\"" + join + "\"}"), "code"), "invalid_field");
  const auto unknown = post("{\"csr\":\"x\",\"token\":\"" + join + "\",\"spiffe_id\":\"spiffe://example.org/x\"}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(member(unknown, "code"), "unknown_field");
  const auto garbage = post("not a certificate request", join);
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(member(garbage, "code"), "invalid_csr");
  EXPECT_EQ(post(csr(), "twjoin_unknown").status, 401);

  const auto issued = post(csr(), join);
  EXPECT_EQ(issued.status, 200) << issued.body;
}

// The X509 of a PEM certificate, as a TLS listener hands a verified client certificate to the API.
std::unique_ptr<X509, decltype(&X509_free)> parse_certificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return {PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free};
}

TEST_F(CertApiTest, RenewsOverMtlsForTheCertificatesIdentityAndRecordsIt) {
  const auto issued = post(csr(), token("spiffe://example.org/ns/prod/sa/web"));
  ASSERT_EQ(issued.status, 200) << issued.body;
  const auto current = parse_certificate(member(issued, "certificate"));
  ASSERT_TRUE(current);
  proxy::AdminRequest request;
  request.method = "POST";
  request.path = "/v1/certs";
  json::ObjectWriter w;
  w.field("csr", csr());  // asks for spiffe://example.org/ns/admin/sa/root: ignored
  request.body = std::move(w).finish();
  request.peer_certificate = current.get();
  const auto renewed = api_->certs(request);
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_EQ(member(renewed, "spiffe_id"), "spiffe://example.org/ns/prod/sa/web");
  EXPECT_NE(member(renewed, "serial"), member(issued, "serial"));

  std::string error;
  const auto audit = store_->audit(error);
  ASSERT_TRUE(audit) << error;
  EXPECT_EQ(audit->back().event, "certificate_issued");
  EXPECT_EQ(audit->back().token, "renewal");
  EXPECT_EQ(audit->back().identity, "spiffe://example.org/ns/prod/sa/web");
  EXPECT_EQ(audit->back().serial, member(renewed, "serial"));
}

TEST_F(CertApiTest, RefusesRenewalsWithoutACertificateOfThisCa) {
  proxy::AdminRequest request;
  request.method = "POST";
  request.path = "/v1/certs";
  json::ObjectWriter w;
  w.field("csr", csr());
  request.body = std::move(w).finish();
  const auto bare = api_->certs(request);
  EXPECT_EQ(bare.status, 401);
  EXPECT_EQ(member(bare, "code"), "no_credential");

  // Another CA of the same trust domain (the TLS layer would refuse it first; the API refuses it too).
  std::string error;
  const auto other_ca = CertificateAuthority::open_state_dir((dir_ / "other").string(), "example.org", error);
  ASSERT_TRUE(other_ca) << error;
  const auto foreign = other_ca->issue(csr(), *tls::SpiffeId::parse("spiffe://example.org/ns/prod/sa/web"),
                                       std::chrono::hours(1), error);
  ASSERT_TRUE(foreign) << error;
  const auto foreign_cert = parse_certificate(foreign->certificate_pem);
  request.peer_certificate = foreign_cert.get();
  const auto refused = api_->certs(request);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(member(refused, "code"), "invalid_certificate");
  EXPECT_NE(member(refused, "message").find("not issued by this certificate authority"), std::string::npos);

  // Another trust domain's SVID.
  const auto other_domain_ca = CertificateAuthority::open_state_dir((dir_ / "td").string(), "other.org", error);
  ASSERT_TRUE(other_domain_ca) << error;
  const auto other_domain = other_domain_ca->issue(csr(), *tls::SpiffeId::parse("spiffe://other.org/ns/a/sa/b"),
                                                   std::chrono::hours(1), error);
  ASSERT_TRUE(other_domain) << error;
  const auto other_domain_cert = parse_certificate(other_domain->certificate_pem);
  request.peer_certificate = other_domain_cert.get();
  const auto wrong_domain = api_->certs(request);
  EXPECT_EQ(wrong_domain.status, 401);
  EXPECT_NE(member(wrong_domain, "message").find("not in trust domain example.org"), std::string::npos);
}

TEST_F(CertApiTest, ServesTheBundleAsPemOrJwks) {
  proxy::AdminRequest request;
  request.method = "GET";
  request.path = "/v1/bundle";
  const auto pem = api_->bundle(request);
  EXPECT_EQ(pem.status, 200);
  EXPECT_EQ(pem.content_type, "application/x-pem-file");
  EXPECT_EQ(pem.body, ca_->bundle_pem());
  request.query = "format=jwks";
  const auto jwks = api_->bundle(request);
  EXPECT_EQ(jwks.status, 200);
  EXPECT_EQ(jwks.body, ca_->bundle_jwks() + "\n");
  request.query = "format=der";
  EXPECT_EQ(api_->bundle(request).status, 400);
}

}  // namespace
}  // namespace tollway::control
