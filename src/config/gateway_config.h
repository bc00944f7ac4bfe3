// The gateway's configuration as validated, typed values. A GatewayConfig only exists when every rule of
// docs/configuration.md holds; it is immutable once built and never read from disk again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "config/auth_config.h"

namespace tollway::config {

enum class Api { OpenAI, Anthropic };
const char* api_name(Api api);

struct ListenAddress {
  std::string host;  // IP literal (v4 or v6 without brackets) or "localhost"
  uint16_t port = 0;
  std::string to_string() const;
};
// "HOST:PORT" or "[v6]:PORT"; nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

struct ProviderConfig {
  std::string name;
  Api api = Api::OpenAI;
  bool tls = false;
  std::string host;
  uint16_t port = 0;
  std::string path_prefix;  // base_url path without a trailing '/', "" for none
  std::string api_key;      // "" = forward the caller's own credential headers
  std::string anthropic_version;
  std::string ca_file;      // "" = the system's CA store
};

struct ModelRule {
  std::string pattern;
  std::size_t provider = 0;  // index into GatewayConfig::providers
};

struct RouteConfig {
  std::string path;
  bool is_prefix = false;
  Api api = Api::OpenAI;
  std::size_t provider = 0;  // default provider index
  uint64_t max_body = 0;
  bool translate = true;     // a model served by a provider of the other API is translated (false: 400)
};

struct Limits {
  uint64_t max_request_line = 8 * 1024;
  uint64_t max_header_block = 64 * 1024;
  uint64_t max_body = 16 * 1024 * 1024;
};

struct Timeouts {
  using ms = std::chrono::milliseconds;
  ms header_read{10'000};
  ms body_read{60'000};
  ms idle{75'000};
  ms upstream_connect{5'000};
  ms upstream_first_byte{120'000};
  ms upstream_total{900'000};
  ms drain{30'000};
};

// Prices in micro-dollars (1e-6 USD) per 1M tokens: $2.50 / 1M tokens = 2'500'000.
struct Price {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cached_input = 0;  // OpenAI cached prompt tokens, Anthropic cache reads
  int64_t cache_write = 0;   // Anthropic cache creation (5-minute writes)
};

struct ModelPrice {
  std::string pattern;  // model name glob
  Price price;
};

// The `pricing` section: inline model prices first, then the price file's, then the default price.
struct PricingConfig {
  std::vector<ModelPrice> models;
  Price default_price;
  std::string file;           // the price file that was loaded ("" = none)
  std::string table_version;  // that file's `version:` ("" = none)
};

// The `usage` section: how hard the gateway tries to learn a stream's usage after the client has gone.
struct UsageConfig {
  std::chrono::milliseconds drain_time{30'000};  // keep reading upstream this long after the client left
  uint64_t drain_bytes = 8 * 1024 * 1024;        // ... and at most this many more bytes
  bool log_calls = true;                          // one `usage` log line per proxied call
};

struct GatewayConfig {
  ListenAddress listen{"127.0.0.1", 8080};
  ListenAddress admin{"127.0.0.1", 9901};
  int workers = 0;  // 0 = one per core
  Limits limits;
  Timeouts timeouts;
  std::vector<ProviderConfig> providers;
  std::vector<ModelRule> models;
  std::vector<RouteConfig> routes;
  PricingConfig pricing;  // src/config/usage_sections.cc
  UsageConfig usage;      // src/config/usage_sections.cc
  AuthConfig auth;                // caller authentication (src/config/auth_section.cc)
  CredentialsConfig credentials;  // provider credential sources (src/config/credentials_section.cc)
  std::string source;   // file it was loaded from
  std::string version;  // first 12 hex digits of the sha256 of the file's bytes
};

}  // namespace tollway::config
