// Helpers for the unit tests of config section readers: a document parsed whole (as `tollway validate` does)
// with no environment variables set, and every error of a result as one string for assertion messages.
// Test-only; it never touches files or the process environment.
#pragma once

#include <optional>
#include <string>

#include "config/loader.h"

namespace tollway::config::test_text {

inline LoadResult parse_without_env(const std::string& text) {
  return parse_gateway_config(text, "test.yaml", [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
}

inline std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

}  // namespace tollway::config::test_text
