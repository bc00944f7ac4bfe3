// The renewal decision: half the lifetime, jitter bounded to ±10 % of it (clamped beyond), measured from
// not_before; and a certificate's validity, URI SAN and serial read from its PEM (garbage refused).
#include "tls/renewal_schedule.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tls/svid_request.h"

namespace tollway::tls {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemClock::time_point kIssued = SystemClock::from_time_t(1'800'000'000);

TEST(RenewalSchedule, RenewsAtHalfTheLifetimeWithoutJitter) {
  EXPECT_EQ(renewal_time(kIssued, kIssued + hours(24), 0.0), kIssued + hours(12));
  EXPECT_EQ(renewal_time(kIssued, kIssued + minutes(6), 0.0), kIssued + minutes(3));
}

TEST(RenewalSchedule, JitterMovesItAtMostATenthOfTheLifetime) {
  EXPECT_EQ(renewal_time(kIssued, kIssued + hours(10), 0.1), kIssued + hours(6));
  EXPECT_EQ(renewal_time(kIssued, kIssued + hours(10), -0.1), kIssued + hours(4));
  // Out of bounds: clamped, never past 60 % nor before 40 %.
  EXPECT_EQ(renewal_time(kIssued, kIssued + hours(10), 0.9), kIssued + hours(6));
  EXPECT_EQ(renewal_time(kIssued, kIssued + hours(10), -3.0), kIssued + hours(4));
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> jitter(-kMaxRenewalJitter, kMaxRenewalJitter);
  for (int i = 0; i < 1000; ++i) {
    const auto at = renewal_time(kIssued, kIssued + seconds(3600), jitter(random));
    EXPECT_GE(at, kIssued + seconds(1440));
    EXPECT_LE(at, kIssued + seconds(2160));
  }
}

TEST(RenewalSchedule, ReadsValiditySanAndSerialFromPem) {
  const auto dir = std::filesystem::temp_directory_path() / ("tollway-renewal-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string command = "cd '" + dir.string() +
                              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                              "-keyout k.pem -out c.pem -days 2 -subj /CN=x -set_serial 0x2A "
                              "-addext subjectAltName=URI:spiffe://example.org/ns/a/sa/b 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(dir / "c.pem");
  std::ostringstream pem;
  pem << in.rdbuf();
  std::string error;
  const auto validity = read_certificate_validity(pem.str(), error);
  ASSERT_TRUE(validity) << error;
  EXPECT_EQ(validity->uri_san, "spiffe://example.org/ns/a/sa/b");
  EXPECT_EQ(validity->serial_hex, "2A");
  EXPECT_EQ(validity->not_after - validity->not_before, hours(48));
  EXPECT_FALSE(read_certificate_validity("not a certificate", error));
  EXPECT_EQ(error, "not a PEM certificate");
  std::filesystem::remove_all(dir);
}

TEST(SvidRequest, MakesAP256KeyAndARequestSignedWithIt) {
  std::string error;
  const auto fresh = make_svid_request(error);
  ASSERT_TRUE(fresh) << error;
  EXPECT_NE(fresh->key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_NE(fresh->csr_pem.find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
  // Every request is over a key of its own: a renewal never reuses the previous one.
  const auto again = make_svid_request(error);
  ASSERT_TRUE(again) << error;
  EXPECT_NE(again->key_pem, fresh->key_pem);
  EXPECT_NE(again->csr_pem, fresh->csr_pem);
}

}  // namespace
}  // namespace tollway::tls
