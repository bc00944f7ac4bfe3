#include "limits/redis/redis_url.h"

#include <charconv>

namespace tollway::limits::redis {
namespace {

bool parse_number(std::string_view s, long max, long& out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out <= max;
}

}  // namespace

std::optional<RedisOptions> parse_redis_url(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "redis://";
  const std::string_view allowed = "; allowed: redis://[[user]:password@]host[:port][/db]";
  if (!url.starts_with(kScheme)) {
    error = std::string("the scheme must be redis:// (TLS, rediss://, is not supported)") + std::string(allowed);
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisOptions options;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      error = std::string("the credentials before '@' must be user:password or :password") + std::string(allowed);
      return std::nullopt;
    }
    options.username = std::string(credentials.substr(0, colon));
    options.password = std::string(credentials.substr(colon + 1));
    if (options.password.empty()) {
      error = std::string("the password before '@' is empty") + std::string(allowed);
      return std::nullopt;
    }
  }
  std::string_view hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    long db = 0;
    const std::string_view db_text = rest.substr(slash + 1);
    if (!db_text.empty()) {
      if (!parse_number(db_text, 1'000'000, db)) {
        error = "the database after '/' must be a number from 0" + std::string(allowed);
        return std::nullopt;
      }
      options.db = static_cast<int>(db);
    }
  }
  if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    long port = 0;
    if (!parse_number(hostport.substr(colon + 1), 65535, port) || port == 0) {
      error = "the port must be a number from 1 to 65535" + std::string(allowed);
      return std::nullopt;
    }
    options.port = static_cast<uint16_t>(port);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty() || hostport.find_first_of("[]:?#") != std::string_view::npos) {
    error = "the host is missing or not a host name / IPv4 address" + std::string(allowed);
    return std::nullopt;
  }
  options.host = std::string(hostport);
  return options;
}

}  // namespace tollway::limits::redis
