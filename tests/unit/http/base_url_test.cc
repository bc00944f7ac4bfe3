// BaseUrl: scheme, host (IPv6 in brackets), port (default 80/443), path prefix without trailing '/'; user info,
// queries, fragments, bad ports and other schemes refused with the reason.
#include "http/base_url.h"

#include <gtest/gtest.h>

namespace tollway::http {
namespace {

TEST(BaseUrl, SplitsSchemeHostPortAndPrefix) {
  std::string error;
  auto url = parse_base_url("https://cp.example.org:7070/api/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "cp.example.org");
  EXPECT_EQ(url->port, 7070);
  EXPECT_EQ(url->path_prefix, "/api");
  url = parse_base_url("http://127.0.0.1", error);
  ASSERT_TRUE(url) << error;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->path_prefix, "");
  url = parse_base_url("https://[::1]:8443", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(parse_base_url("https://[::1]", error)->port, 443);
}

TEST(BaseUrl, RefusesWhatItCannotConnectTo) {
  std::string error;
  for (const char* bad : {"ftp://host", "host:80", "https://", "https://user@host", "https://host/?q=1",
                          "https://host/#f", "https://host:0", "https://host:65536", "https://host:x",
                          "https://host:", "https://[::1", "https://[::1]x"}) {
    error.clear();
    EXPECT_FALSE(parse_base_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace tollway::http
