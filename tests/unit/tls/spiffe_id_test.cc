// SpiffeId against the SPIFFE ID specification's examples and the invalid IDs the SPIFFE libraries' test
// suites share (go-spiffe, java-spiffe, py-spiffe, the Rust crate): each refused for the reason the spec gives.
#include "tls/spiffe_id.h"

#include <gtest/gtest.h>

#include <string>

namespace tollway::tls {
namespace {

TEST(SpiffeId, SpecExamplesParse) {
  struct Case {
    const char* text;
    const char* trust_domain;
    const char* path;
  };
  for (const Case& c : {Case{"spiffe://trust-domain-name/path", "trust-domain-name", "/path"},
                        Case{"spiffe://staging.example.com/payments/mysql", "staging.example.com", "/payments/mysql"},
                        Case{"spiffe://staging.example.com/payments/web-fe", "staging.example.com", "/payments/web-fe"},
                        Case{"spiffe://k8s-west.example.com/ns/staging/sa/default", "k8s-west.example.com",
                             "/ns/staging/sa/default"},
                        Case{"spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453", "example.com",
                             "/9eebccd2-12bf-40a6-b262-65fe0487d453"},
                        Case{"spiffe://trustdomain", "trustdomain", ""},
                        Case{"spiffe://192.168.2.2/path", "192.168.2.2", "/path"},
                        Case{"spiffe://trust_domain.example.com/A.b-C_d/...x/.y", "trust_domain.example.com",
                             "/A.b-C_d/...x/.y"}}) {
    std::string error;
    const auto id = SpiffeId::parse(c.text, &error);
    ASSERT_TRUE(id) << c.text << ": " << error;
    EXPECT_EQ(id->text(), c.text);
    EXPECT_EQ(id->trust_domain(), c.trust_domain);
    EXPECT_EQ(id->path(), c.path);
    EXPECT_TRUE(id->member_of(c.trust_domain));
    EXPECT_FALSE(id->member_of("other.example"));
  }
}

TEST(SpiffeId, InvalidIdsAreRefusedWithTheReason) {
  struct Case {
    std::string text;
    const char* reason;
  };
  const std::string long_path = "spiffe://example.org/" + std::string(2048 - 21 + 1, 'a');
  const std::string long_domain = "spiffe://" + std::string(256, 'a') + "/path";
  for (const Case& c : {
           Case{"", "SPIFFE ID is empty"},
           Case{"192.168.2.2:6688", "scheme must be \"spiffe\""},
           Case{"http://domain.test/path/element", "scheme must be \"spiffe\""},
           Case{"SPIFFE://domain.test/path/element", "scheme must be lowercase \"spiffe\""},
           Case{"spiffe:///path/element", "trust domain is empty"},
           Case{"spiffe://", "trust domain is empty"},
           Case{"spiffe:path/element", "scheme must be followed by \"://\""},
           Case{"spiffe:/path/element", "scheme must be followed by \"://\""},
           Case{"spiffe://domain.test/path/element?query=1", "a SPIFFE ID has no query"},
           Case{"spiffe://domain.test/path/element?#fragment-1", "a SPIFFE ID has no query"},
           Case{"spiffe://domain.test/path/element#fragment-1", "a SPIFFE ID has no fragment"},
           Case{"spiffe://domain.test:8080/path/element", "a SPIFFE ID has no port"},
           Case{"spiffe://user:password@test.org/path/element", "a SPIFFE ID has no userinfo"},
           Case{"spiffe://Domain.test/path", "trust domain must be lowercase"},
           Case{"spiffe://domain%2etest/path", "trust domain is percent-encoded (not allowed)"},
           Case{"spiffe://[::1]/path", "trust domain cannot be an IPv6 address"},
           Case{"spiffe://exa$mple.org/path", "trust domain has an invalid character '$'"},
           Case{"spiffe://domain.test/", "path has a trailing '/'"},
           Case{"spiffe://domain.test/path/", "path has a trailing '/'"},
           Case{"spiffe://domain.test//path", "path has an empty segment"},
           Case{"spiffe://domain.test/./path", "path has a relative segment '.'"},
           Case{"spiffe://domain.test/path/..", "path has a relative segment '..'"},
           Case{"spiffe://domain.test/p%41th", "path is percent-encoded (not allowed)"},
           Case{"spiffe://domain.test/p*th", "path has an invalid character '*'"},
           Case{"spiffe://domain.test/p th", "path has an invalid character byte 0x20"},
           Case{std::string("spiffe://domain.test/p\0th", 25), "path has an invalid character byte 0x00"},
           Case{"spiffe://domain.test/caf\xc3\xa9", "path has an invalid character byte 0xc3"},
           Case{long_path, "SPIFFE ID is longer than 2048 bytes"},
           Case{long_domain, "trust domain is longer than 255 bytes"},
       }) {
    std::string error;
    EXPECT_FALSE(SpiffeId::parse(c.text, &error)) << c.text;
    EXPECT_EQ(error, c.reason) << c.text;
  }
}

TEST(SpiffeId, LengthLimitsAreInclusive) {
  const std::string at_limit = "spiffe://example.org/" + std::string(2048 - 21, 'a');
  ASSERT_EQ(at_limit.size(), 2048u);
  EXPECT_TRUE(SpiffeId::parse(at_limit));
  EXPECT_TRUE(SpiffeId::parse("spiffe://" + std::string(255, 'a')));
}

TEST(SpiffeId, PartsAreCheckedAlone) {
  EXPECT_EQ(SpiffeId::check_trust_domain("example.org"), "");
  EXPECT_EQ(SpiffeId::check_trust_domain(""), "trust domain is empty");
  EXPECT_EQ(SpiffeId::check_trust_domain("Example.org"), "trust domain must be lowercase");
  EXPECT_EQ(SpiffeId::check_path(""), "");
  EXPECT_EQ(SpiffeId::check_path("/ns/prod/sa/web"), "");
  EXPECT_EQ(SpiffeId::check_path("ns/prod"), "path must start with '/'");
  EXPECT_EQ(SpiffeId::check_path("/"), "path has a trailing '/'");
}

TEST(SpiffeId, EqualityIsExact) {
  EXPECT_EQ(*SpiffeId::parse("spiffe://a.test/x"), *SpiffeId::parse("spiffe://a.test/x"));
  EXPECT_FALSE(*SpiffeId::parse("spiffe://a.test/x") == *SpiffeId::parse("spiffe://a.test/X"));
}

}  // namespace
}  // namespace tollway::tls
