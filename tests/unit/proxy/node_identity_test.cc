// NodeIdentity at start without any control plane: a valid persisted certificate and key are used as they are
// (static stability: no network, the SPIFFE ID and the expiry gauge from the files); without one and without a
// join token it refuses with the reason; a key that does not match the certificate is not taken. The control
// plane's SPIFFE ID required is spiffe://TD/tollway/control in the node's trust domain, or --control-spiffe-id; a
// join whose bundle names no trust domain needs the flag. Certificates are made by the openssl CLI.
#include "proxy/node_identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tls/node_identity_files.h"

namespace tollway::proxy {
namespace {

namespace fs = std::filesystem;

class NodeIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tollway-node-identity-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "identity");
    // A CA, and a leaf for spiffe://example.org/ns/prod/sa/gw valid for two days, as the node's files.
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
        "-days 3 -subj /CN=ca");
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout identity/svid.key "
        "-out leaf.csr -subj /O=tollway");
    run("printf 'subjectAltName=URI:spiffe://example.org/ns/prod/sa/gw\\n' > ext.cnf && openssl x509 -req "
        "-in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out identity/svid.pem");
    run("cp ca.pem identity/bundle.pem");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void run(const std::string& command) const {
    const std::string full = "cd '" + dir_.string() + "' && (" + command + ") >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << command;
  }
  NodeIdentityOptions options(std::string join_token = "") const {
    // A port nothing listens on: any attempt to reach a control plane would fail (and a join would retry).
    NodeIdentityOptions o;
    o.dir = (dir_ / "identity").string();
    o.join_token = std::move(join_token);
    o.control_ca_file = (dir_ / "ca.pem").string();
    o.control_urls = {"https://127.0.0.1:9"};
    return o;
  }

  fs::path dir_;
};

TEST_F(NodeIdentityTest, AValidPersistedCertificateServesWithoutTheControlPlane) {
  std::string error;
  const auto identity = NodeIdentity::open(options(), error);
  ASSERT_TRUE(identity) << error;
  EXPECT_EQ(identity->spiffe_id(), "spiffe://example.org/ns/prod/sa/gw");
  EXPECT_EQ(identity->control_spiffe_id(), "spiffe://example.org/tollway/control");  // in the node's trust domain
  EXPECT_TRUE(identity->control_tls());
  const auto left = identity->not_after() - NodeIdentity::Clock::now();
  EXPECT_GT(left, std::chrono::hours(47));
  EXPECT_LE(left, std::chrono::hours(48));
  std::string metrics;
  identity->render_metrics(metrics);
  EXPECT_NE(metrics.find("# TYPE tollway_identity_expiry_seconds gauge\ntollway_identity_expiry_seconds 17"),
            std::string::npos)
      << metrics;  // 47 h 59 min ≈ 172,7xx s
  EXPECT_NE(metrics.find("tollway_identity_renewals_total{result=\"failure\"} 0"), std::string::npos) << metrics;
}

TEST_F(NodeIdentityTest, AnExplicitControlSpiffeIdIsTheOneRequired) {
  auto o = options();
  o.control_spiffe_id = "spiffe://example.org/ops/control";
  std::string error;
  const auto identity = NodeIdentity::open(std::move(o), error);
  ASSERT_TRUE(identity) << error;
  EXPECT_EQ(identity->control_spiffe_id(), "spiffe://example.org/ops/control");
}

TEST_F(NodeIdentityTest, AJoinWithABundleNamingNoTrustDomainNeedsTheFlag) {
  fs::remove(dir_ / "identity" / "svid.pem");
  std::string error;
  EXPECT_FALSE(NodeIdentity::open(options("twjoin_x"), error));  // ca.pem carries no spiffe:// URI SAN
  EXPECT_NE(error.find("cannot tell which SPIFFE ID the control plane must present"), std::string::npos) << error;
  EXPECT_NE(error.find("--control-spiffe-id"), std::string::npos) << error;
}

TEST_F(NodeIdentityTest, WithoutACertificateOrAJoinTokenItRefusesWithTheReason) {
  fs::remove(dir_ / "identity" / "svid.pem");
  std::string error;
  EXPECT_FALSE(NodeIdentity::open(options(), error));
  EXPECT_NE(error.find("no valid certificate in"), std::string::npos) << error;
  EXPECT_NE(error.find("no --join-token-file"), std::string::npos) << error;
}

TEST_F(NodeIdentityTest, AKeyThatDoesNotMatchIsNotTaken) {
  run("openssl ecparam -name prime256v1 -genkey -noout -out identity/svid.key");
  std::string error;
  EXPECT_FALSE(NodeIdentity::open(options(), error));
  EXPECT_NE(error.find("no valid certificate in"), std::string::npos) << error;
}

TEST(NodeIdentityFiles, AListenerWithTheNodesIdentityRequiresClientCertificates) {
  const tls::ServerTlsFiles files = tls::node_identity_listener_files("/var/lib/tollway/identity");
  EXPECT_EQ(files.cert_file, "/var/lib/tollway/identity/svid.pem");
  EXPECT_EQ(files.key_file, "/var/lib/tollway/identity/svid.key");
  EXPECT_EQ(files.client_ca_file, "/var/lib/tollway/identity/bundle.pem");
  EXPECT_TRUE(files.require_client_cert);
}

}  // namespace
}  // namespace tollway::proxy
