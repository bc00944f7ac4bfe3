// The SPIFFE ID a node expects of its control plane: spiffe://TD/tollway/control, TD read from the bundle's roots
// (one trust domain named by spiffe:// URI SANs; none, two or no certificate at all is an error). Roots are made
// by the openssl CLI.
#include "tls/control_plane_id.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tollway::tls {
namespace {

namespace fs = std::filesystem;

class BundleTrustDomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tollway-control-plane-id-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A self-signed root with `san` as its subjectAltName ("" = none), as PEM.
  std::string root(const std::string& name, const std::string& san) const {
    const std::string extension = san.empty() ? "" : " -addext subjectAltName=" + san;
    const std::string command = "cd '" + dir_.string() + "' && openssl req -x509 -newkey ec -pkeyopt "
                                "ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
                                ".pem -days 1 -subj /CN=" + name + extension + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(dir_ / (name + ".pem"));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

TEST(ControlPlaneId, IsTheControlPathInTheTrustDomain) {
  EXPECT_EQ(control_plane_id("example.org"), "spiffe://example.org/tollway/control");
}

TEST_F(BundleTrustDomainTest, TheTrustDomainTheRootsName) {
  std::string error;
  const std::string old_root = root("old", "URI:spiffe://example.org");
  const std::string new_root = root("new", "URI:spiffe://example.org");
  EXPECT_EQ(bundle_trust_domain(old_root, error), "example.org") << error;
  // A rotation's bundle: two roots of the same trust domain.
  EXPECT_EQ(bundle_trust_domain(old_root + new_root, error), "example.org") << error;
  // A root naming none beside one that does.
  EXPECT_EQ(bundle_trust_domain(root("plain", "") + old_root, error), "example.org") << error;
}

TEST_F(BundleTrustDomainTest, NoneTwoOrNoCertificateIsAnError) {
  std::string error;
  EXPECT_FALSE(bundle_trust_domain(root("plain", "DNS:ca.example"), error));
  EXPECT_NE(error.find("names a trust domain"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(bundle_trust_domain(root("a", "URI:spiffe://a.example") + root("b", "URI:spiffe://b.example"), error));
  EXPECT_NE(error.find("two trust domains (a.example, b.example)"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(bundle_trust_domain("not PEM", error));
  EXPECT_NE(error.find("no PEM certificate"), std::string::npos) << error;
}

}  // namespace
}  // namespace tollway::tls
