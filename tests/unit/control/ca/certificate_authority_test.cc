// CertificateAuthority, checked with the openssl CLI as the independent verifier: the issued X.509-SVIDs
// verify against the bundle for client and server use, carry exactly the identity asked for (never the CSR's),
// and the refusals name their reason.
#include "control/ca/certificate_authority.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tls/openssl_handles.h"

namespace tollway::control {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A scratch directory, removed at the end of the test.
class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tollway-ca-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // Runs `command` in the scratch directory; its stdout and stderr, and its exit status in `status`.
  std::string run(const std::string& command, int* status = nullptr) const {
    const std::string full = "cd '" + dir_.string() + "' && (" + command + ") 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    std::string out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    const int rc = ::pclose(pipe);
    if (status != nullptr) *status = WEXITSTATUS(rc);
    return out;
  }
  // A CSR made by openssl: key `name`.key, asking for a SPIFFE ID of its own choosing.
  std::string csr(const std::string& name, const std::string& key_options =
                                               "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1") const {
    int status = 0;
    const std::string out = run("openssl req -new " + key_options + " -nodes -keyout " + name + ".key -out " + name +
                                    ".csr -subj /CN=admin -addext subjectAltName=URI:spiffe://evil.test/admin",
                                &status);
    EXPECT_EQ(status, 0) << out;
    return read(name + ".csr");
  }

  std::unique_ptr<CertificateAuthority> open_ca() {
    std::string error;
    auto ca = CertificateAuthority::open_state_dir(path("state"), "example.org", error);
    EXPECT_TRUE(ca) << error;
    return ca;
  }

  fs::path dir_;
};

tls::SpiffeId id(const char* text) { return *tls::SpiffeId::parse(text); }

tls::X509Ptr certificate_of(const std::string& pem) {
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return tls::X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST_F(CaTest, FirstStartGeneratesARootThatLaterStartsReuse) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  struct stat key_stat {};
  ASSERT_EQ(::stat(path("state/ca/root.key").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  write("bundle.pem", ca->bundle_pem());
  const std::string text = run("openssl x509 -in bundle.pem -noout -text");
  EXPECT_NE(text.find("CA:TRUE"), std::string::npos) << text;
  EXPECT_NE(text.find("Certificate Sign, CRL Sign"), std::string::npos) << text;
  EXPECT_NE(text.find("URI:spiffe://example.org"), std::string::npos) << text;
  EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos) << text;
  int status = 0;
  run("openssl verify -CAfile bundle.pem bundle.pem", &status);
  EXPECT_EQ(status, 0);

  auto again = open_ca();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bundle_pem(), ca->bundle_pem());
  std::string error;
  EXPECT_FALSE(CertificateAuthority::open_state_dir(path("state"), "other.org", error));
  EXPECT_NE(error.find("not in trust domain other.org"), std::string::npos) << error;
}

TEST_F(CaTest, IssuesAnX509SvidForTheGivenIdentityOnly) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  std::string error;
  const auto svid = ca->issue(csr("agent"), id("spiffe://example.org/ns/prod/sa/agent-a"),
                              CertificateAuthority::kDefaultSvidLifetime, error);
  ASSERT_TRUE(svid) << error;
  write("bundle.pem", ca->bundle_pem());
  write("agent.pem", svid->certificate_pem);
  int status = 0;
  std::string out = run("openssl verify -CAfile bundle.pem -purpose sslclient agent.pem", &status);
  EXPECT_EQ(status, 0) << out;
  out = run("openssl verify -CAfile bundle.pem -purpose sslserver agent.pem", &status);
  EXPECT_EQ(status, 0) << out;
  // The certificate is for the CSR's key.
  EXPECT_EQ(run("openssl x509 -in agent.pem -noout -pubkey"), run("openssl pkey -in agent.key -pubout"));

  const std::string text = run("openssl x509 -in agent.pem -noout -text");
  EXPECT_NE(text.find("URI:spiffe://example.org/ns/prod/sa/agent-a"), std::string::npos) << text;
  EXPECT_EQ(text.find("evil.test"), std::string::npos) << text;
  EXPECT_EQ(text.find("CN=admin"), std::string::npos) << text;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Digital Signature\n"), std::string::npos) << text;
  EXPECT_NE(text.find("TLS Web Server Authentication, TLS Web Client Authentication"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos) << text;
  const std::string sans = run("openssl x509 -in agent.pem -noout -ext subjectAltName");
  EXPECT_EQ(sans, "X509v3 Subject Alternative Name: \n    URI:spiffe://example.org/ns/prod/sa/agent-a\n");
  EXPECT_EQ(svid->not_after - svid->not_before, 24h + 60s);
  EXPECT_EQ(svid->chain_pem, svid->certificate_pem);  // the root is the CA: nothing between
  EXPECT_FALSE(svid->serial_hex.empty());
}

TEST_F(CaTest, HostNamesBecomeDnsAndIpSansBesideTheOneUri) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  std::string error;
  const auto svid = ca->issue(csr("control"), id("spiffe://example.org/tollway/control"), 3600s, error,
                              {"localhost", "127.0.0.1", "::1", "cp.example.org"});
  ASSERT_TRUE(svid) << error;
  write("control.pem", svid->certificate_pem);
  const std::string sans = run("openssl x509 -in control.pem -noout -ext subjectAltName");
  EXPECT_NE(sans.find("URI:spiffe://example.org/tollway/control, DNS:localhost, IP Address:127.0.0.1, "
                      "IP Address:0:0:0:0:0:0:0:1, DNS:cp.example.org"),
            std::string::npos)
      << sans;
  EXPECT_FALSE(ca->issue(csr("bad"), id("spiffe://example.org/tollway/control"), 3600s, error, {"bad name"}));
  EXPECT_EQ(error, "\"bad name\" is neither an IP address nor a DNS name");
  EXPECT_FALSE(ca->issue(csr("bad"), id("spiffe://example.org/tollway/control"), 3600s, error, {"a..b"}));
}

TEST_F(CaTest, LifetimeHasAFloor) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  std::string error;
  const auto svid = ca->issue(csr("short"), id("spiffe://example.org/a"), 10s, error);
  ASSERT_TRUE(svid) << error;
  EXPECT_EQ(svid->not_after - svid->not_before, 300s + 60s);
}

TEST_F(CaTest, RefusesWithTheReason) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  std::string error;
  const std::string good = csr("good");
  auto refused = [&](std::string_view pem, const char* identity) {
    error.clear();
    return !ca->issue(pem, id(identity), 1h, error);
  };
  EXPECT_TRUE(refused(good, "spiffe://other.org/a"));
  EXPECT_EQ(error, "identity spiffe://other.org/a is not in trust domain example.org");
  EXPECT_TRUE(refused("not a csr", "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----)");
  EXPECT_TRUE(refused(good + good, "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR holds more than one PEM block");
  EXPECT_TRUE(refused(std::string(20000, 'A'), "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR is larger than 16384 bytes");
  EXPECT_TRUE(refused("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                      "spiffe://example.org/a"));
  EXPECT_EQ(error.rfind("the CSR is malformed", 0), 0u) << error;
  EXPECT_TRUE(refused(csr("weak", "-newkey rsa:1024"), "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR's RSA key has 1024 bits (2048 or more required)");
  EXPECT_TRUE(refused(csr("curve", "-newkey ec -pkeyopt ec_paramgen_curve:secp256k1"), "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR's EC key is on curve secp256k1 (P-256 or P-384 required)");

  // A CSR whose signature was altered: its key does not sign it.
  int status = 0;
  const std::string out = run(
      "openssl req -in good.csr -outform DER -out good.der && "
      "python3 -c \"import sys; b=bytearray(open('good.der','rb').read()); b[-3]^=0x55; "
      "open('bad.der','wb').write(b)\" && openssl req -inform DER -in bad.der -out bad.csr",
      &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_TRUE(refused(read("bad.csr"), "spiffe://example.org/a"));
  EXPECT_EQ(error, "the CSR's signature does not verify with its own public key");
}

TEST_F(CaTest, SuppliedIntermediateChainsToItsRoot) {
  int status = 0;
  const std::string out = run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout root.key -out root.pem "
      "-days 30 -subj /CN=company-root -addext basicConstraints=critical,CA:TRUE "
      "-addext keyUsage=critical,keyCertSign,cRLSign && "
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout int.key -out int.csr "
      "-subj /CN=tollway-intermediate && "
      "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
      "subjectAltName=URI:spiffe://example.org\\n' > int.ext && "
      "openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 10 -extfile int.ext "
      "-out int.pem && cat int.pem root.pem > int-chain.pem",
      &status);
  ASSERT_EQ(status, 0) << out;
  std::string error;
  auto ca = CertificateAuthority::from_files(path("int-chain.pem"), path("int.key"), "example.org", error);
  ASSERT_TRUE(ca) << error;
  const auto svid = ca->issue(csr("node"), id("spiffe://example.org/ns/edge/sa/gateway"), 1h, error);
  ASSERT_TRUE(svid) << error;
  write("node-chain.pem", svid->chain_pem);
  write("node.pem", svid->certificate_pem);
  write("bundle.pem", ca->bundle_pem());
  EXPECT_EQ(read("bundle.pem"), read("root.pem"));
  const std::string verified = run("openssl verify -CAfile bundle.pem -untrusted int.pem node.pem", &status);
  EXPECT_EQ(status, 0) << verified;
  // The chain a node presents: its certificate, then the intermediate (and the root).
  EXPECT_EQ(svid->chain_pem.find(svid->certificate_pem), 0u);
  EXPECT_NE(svid->chain_pem.find(read("int.pem")), std::string::npos);

  EXPECT_FALSE(CertificateAuthority::from_files(path("int-chain.pem"), path("node.key"), "example.org", error));
  EXPECT_NE(error.find("the key does not match"), std::string::npos) << error;
  EXPECT_FALSE(CertificateAuthority::from_files(path("node.pem"), path("node.key"), "example.org", error));
  EXPECT_NE(error.find("not a CA certificate"), std::string::npos) << error;
  EXPECT_FALSE(CertificateAuthority::from_files(path("int-chain.pem"), path("int.key"), "other.org", error));
  EXPECT_NE(error.find("not in trust domain other.org"), std::string::npos) << error;
  EXPECT_FALSE(CertificateAuthority::from_files(path("int.pem"), path("int.key"), "example.org", error));
  EXPECT_NE(error.find("does not end in a self-signed root"), std::string::npos) << error;
}

TEST_F(CaTest, BundleAsSpiffeJwks) {
  auto ca = open_ca();
  ASSERT_TRUE(ca);
  write("bundle.pem", ca->bundle_pem());
  const std::string der_base64 = run("openssl x509 -in bundle.pem -outform DER | base64 -w0");
  const std::string jwks = ca->bundle_jwks();
  EXPECT_EQ(jwks.rfind(R"({"keys":[{"use":"x509-svid","kty":"EC","crv":"P-256","x":")", 0), 0u) << jwks;
  EXPECT_NE(jwks.find(R"("x5c":[")" + der_base64 + R"("]})"), std::string::npos) << jwks;
  EXPECT_NE(jwks.find(R"(],"spiffe_sequence":1})"), std::string::npos) << jwks;
}

// A rotation's middle (root_schedule.h): generation 2 signs, generation 1 is old. The bundle holds both (and the
// JWKS says so with its sequence), SVIDs chain to the new root and not to the old one alone, the listener's
// certificate still chains to the old root, and a certificate of either root counts as issued here.
TEST_F(CaTest, MidRotationTheNewRootSignsAndTheBundleHoldsBoth) {
  auto first = open_ca();
  ASSERT_TRUE(first);
  std::string error;
  const auto before = first->issue(csr("before"), id("spiffe://example.org/ns/prod/sa/a"), 1h, error);
  ASSERT_TRUE(before) << error;
  ASSERT_TRUE(CertificateAuthority::generate_root(path("state/ca/root-2.pem"), path("state/ca/root-2.key"),
                                                  "example.org", error))
      << error;
  const RootView view{{1, 2}, 2, 1, 2};
  auto ca = CertificateAuthority::open_state_dir(path("state"), "example.org", view, error);
  ASSERT_TRUE(ca) << error;
  EXPECT_EQ(ca->bundle_pem(), read("state/ca/root.pem") + read("state/ca/root-2.pem"));
  EXPECT_NE(ca->bundle_jwks().find(R"(],"spiffe_sequence":2})"), std::string::npos);
  const auto after = ca->issue(csr("after"), id("spiffe://example.org/ns/prod/sa/a"), 1h, error);
  ASSERT_TRUE(after) << error;
  const auto listener = ca->issue_listener(csr("listener"), id("spiffe://example.org/tollway/control"), 1h, error,
                                           {"localhost"});
  ASSERT_TRUE(listener) << error;
  write("bundle.pem", ca->bundle_pem());
  write("before.pem", before->certificate_pem);
  write("after.pem", after->certificate_pem);
  write("listener.pem", listener->certificate_pem);
  int status = 0;
  for (const char* leaf : {"before.pem", "after.pem", "listener.pem"}) {
    const std::string out = run(std::string("openssl verify -CAfile bundle.pem ") + leaf, &status);
    EXPECT_EQ(status, 0) << leaf << ": " << out;
  }
  run("openssl verify -CAfile state/ca/root.pem after.pem", &status);
  EXPECT_NE(status, 0) << "the new leaf must not verify against the old root alone";
  run("openssl verify -CAfile state/ca/root.pem listener.pem", &status);
  EXPECT_EQ(status, 0) << "the listener stays on the old root while it is in the bundle";
  for (const auto* svid : {&*before, &*after}) {
    tls::X509Ptr cert = certificate_of(svid->certificate_pem);
    ASSERT_TRUE(cert);
    EXPECT_EQ(ca->check_issued_here(cert.get()), "");
  }
  // Once generation 1 retired: only the new root; a certificate of the old one is not issued here any more.
  auto later = CertificateAuthority::open_state_dir(path("state"), "example.org", RootView{{2}, 2, 2, 3}, error);
  ASSERT_TRUE(later) << error;
  EXPECT_EQ(later->bundle_pem(), read("state/ca/root-2.pem"));
  tls::X509Ptr old_leaf = certificate_of(before->certificate_pem);
  EXPECT_NE(later->check_issued_here(old_leaf.get()), "");
}

}  // namespace
}  // namespace tollway::control
