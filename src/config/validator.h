// Validator: reads a YAML config document into typed values while collecting every error with its
// file:line, key path and what is allowed. Each config section's reader (loader.cc, sections.h) uses it;
// it never throws for bad input and never logs values (they may be secrets).
#pragma once

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "config/interpolate.h"
#include "config/loader.h"
#include "core/units.h"

namespace tollway::config {

inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

// Walks the YAML document and fills a GatewayConfig, collecting every error instead of stopping at the first.
class Validator {
 public:
  Validator(std::string file, const EnvLookup& env) : file_(std::move(file)), env_(env) {}

  void fail(const YAML::Node& node, const std::string& path, std::string message) {
    const int line = node.IsDefined() && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    errors_.push_back({file_, line, path, std::move(message)});
  }
  void fail_at(int line, const std::string& path, std::string message) {
    errors_.push_back({file_, line, path, std::move(message)});
  }
  std::vector<ConfigError>& errors() { return errors_; }
  // Something valid but probably wrong; reported, never a reason to refuse the config.
  void warn_at(int line, const std::string& path, std::string message) {
    warnings_.push_back({file_, line, path, std::move(message)});
  }
  std::vector<ConfigError>& warnings() { return warnings_; }
  const std::string& file() const { return file_; }

  // A mapping with only the allowed keys, each at most once.
  bool check_mapping(const YAML::Node& node, const std::string& path, const std::vector<std::string>& allowed) {
    if (!node.IsMap()) {
      fail(node, path, "must be a mapping with keys: " + join(allowed));
      return false;
    }
    std::set<std::string> seen;
    bool keys_are_strings = true;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {  // `? [a, b]: 1` or `{[x]: 1}`: YAML allows it, no config key is one
        fail(kv.first, path, "a key must be a plain string (allowed here: " + join(allowed) + ")");
        keys_are_strings = false;
        continue;
      }
      const std::string key = kv.first.Scalar();
      const std::string key_path = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second) fail(kv.first, key_path, "duplicate key");
      bool known = false;
      for (const auto& a : allowed) known |= (a == key);
      if (!known) fail(kv.first, key_path, "unknown key (allowed here: " + join(allowed) + ")");
    }
    return keys_are_strings;
  }

  std::optional<std::string> string_value(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      fail(node, path, "must be a string");
      return std::nullopt;
    }
    std::string error;
    auto value = interpolate_env(node.Scalar(), env_, error);
    if (!value) fail(node, path, error);
    return value;
  }

  template <typename Apply>
  void optional_string(const YAML::Node& parent, const char* key, const std::string& path, Apply apply) {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return;
    if (auto v = string_value(node, path + key)) apply(node, *v);
  }

  void duration(const YAML::Node& parent, const char* key, const std::string& path,
                std::chrono::milliseconds& out) {
    optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& v) {
      auto d = units::parse_duration(v);
      if (!d || d->count() == 0) {
        fail(node, path + key, "\"" + v + "\" is not a positive duration (use e.g. 250ms, 10s, 5m, 1h)");
      } else {
        out = *d;
      }
    });
  }

  void size(const YAML::Node& parent, const char* key, const std::string& path, uint64_t& out) {
    optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& v) {
      auto s = units::parse_size(v);
      if (!s || *s == 0) {
        fail(node, path + key, "\"" + v + "\" is not a positive size (use e.g. 4096, 8KiB, 16MiB, 1GiB)");
      } else {
        out = *s;
      }
    });
  }

  // A whole number from `min` to `max` (a plain count: no units).
  void count(const YAML::Node& parent, const char* key, const std::string& path, uint64_t min, uint64_t max,
             uint64_t& out) {
    optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& v) {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
        fail(node, path + key,
             "\"" + v + "\" is not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      } else {
        out = n;
      }
    });
  }

  void listen_address(const YAML::Node& parent, const char* key, const std::string& path, ListenAddress& out) {
    optional_string(parent, key, path, [&](const YAML::Node& node, const std::string& v) {
      auto parsed = parse_listen_address(v);
      if (!parsed) {
        fail(node, path + key, "\"" + v + "\" is not HOST:PORT (an IPv4/IPv6 literal or localhost, port 0-65535)");
      } else {
        out = *parsed;
      }
    });
  }

  std::optional<Api> api_value(const YAML::Node& node, const std::string& path) {
    auto v = string_value(node, path);
    if (!v) return std::nullopt;
    if (*v == "openai") return Api::OpenAI;
    if (*v == "anthropic") return Api::Anthropic;
    if (*v == "gemini") return Api::Gemini;
    fail(node, path, "\"" + *v + "\" is not an API (allowed: openai, anthropic, gemini)");
    return std::nullopt;
  }

  void base_url(const YAML::Node& node, const std::string& path, ProviderConfig& p) {
    auto v = string_value(node, path);
    if (!v) return;
    std::string rest;
    if (v->rfind("https://", 0) == 0) {
      p.tls = true;
      p.port = 443;
      rest = v->substr(8);
    } else if (v->rfind("http://", 0) == 0) {
      p.tls = false;
      p.port = 80;
      rest = v->substr(7);
    } else {
      fail(node, path, "\"" + *v + "\" must start with http:// or https://");
      return;
    }
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (authority.empty() || authority.find('@') != std::string::npos ||
        prefix.find_first_of("?# ") != std::string::npos || v->find_first_of(" \t\r\n") != std::string::npos) {
      fail(node, path, "\"" + *v + "\" must be scheme://host[:port][/path] without user info, query or fragment");
      return;
    }
    std::string host = authority;
    if (authority[0] == '[') {
      const auto close = authority.find(']');
      if (close == std::string::npos) {
        fail(node, path, "unclosed '[' in the host of \"" + *v + "\"");
        return;
      }
      host = authority.substr(1, close - 1);
      if (close + 1 < authority.size()) {
        if (authority[close + 1] != ':' || !parse_port(authority.substr(close + 2), p.port)) {
          fail(node, path, "bad port in \"" + *v + "\"");
          return;
        }
      }
    } else if (const auto colon = authority.find(':'); colon != std::string::npos) {
      host = authority.substr(0, colon);
      if (!parse_port(authority.substr(colon + 1), p.port)) {
        fail(node, path, "bad port in \"" + *v + "\" (1-65535)");
        return;
      }
    }
    if (host.empty()) {
      fail(node, path, "no host in \"" + *v + "\"");
      return;
    }
    p.host = host;
    p.path_prefix = prefix;
  }

  static bool parse_port(const std::string& s, uint16_t& port) {
    if (s.empty() || s.size() > 5) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    const unsigned long n = std::stoul(s);
    if (n == 0 || n > 65535) return false;
    port = static_cast<uint16_t>(n);
    return true;
  }

  std::optional<std::size_t> provider_ref(const YAML::Node& node, const std::string& path,
                                          const std::vector<ProviderConfig>& providers) {
    auto v = string_value(node, path);
    if (!v) return std::nullopt;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < providers.size(); ++i) {
      if (providers[i].name == *v) return i;
      names.push_back(providers[i].name);
    }
    fail(node, path, "unknown provider \"" + *v + "\" (defined: " + (names.empty() ? "none" : join(names)) + ")");
    return std::nullopt;
  }

 private:
  std::string file_;
  const EnvLookup& env_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
};


}  // namespace tollway::config
