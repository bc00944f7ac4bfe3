// libFuzzer target for the two node config documents a control plane sends and an operator writes: the gateway's
// (config::parse_gateway_config) and the sidecar's (sidecar::parse_sidecar_config), YAML with ${env:…} interpolation.
// Invariants: each reader either returns a config and no error, or no config and at least one error that names a
// problem (its message non-empty, its line ≥ 0); reading the same bytes twice gives the same errors (no hidden state);
// nothing crashes, hangs or reads out of bounds on any input, however nested or malformed.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "fuzz_check.h"
#include "sidecar/config.h"

namespace {

// A fixed environment: two names resolve, every other is unset (the reader's "unset variable" path).
std::optional<std::string> fixed_environment(const std::string& name) {
  if (name == "PROVIDER_KEY") return std::string("sk-fuzz");
  if (name == "EMPTY") return std::string();
  return std::nullopt;
}

std::vector<std::string> error_lines(const std::vector<tollway::config::ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const auto& e : errors) {
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(e.line >= 0);
    lines.push_back(e.to_string());
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tollway::config::EnvLookup env = fixed_environment;

  const auto gateway = tollway::config::parse_gateway_config(text, "fuzz.yaml", env);
  FUZZ_CHECK(gateway.config.has_value() == gateway.errors.empty());
  const auto gateway_errors = error_lines(gateway.errors);
  FUZZ_CHECK(error_lines(tollway::config::parse_gateway_config(text, "fuzz.yaml", env).errors) == gateway_errors);

  const auto sidecar = tollway::sidecar::parse_sidecar_config(text, "fuzz.yaml", env);
  FUZZ_CHECK(sidecar.config.has_value() == sidecar.errors.empty());
  const auto sidecar_errors = error_lines(sidecar.errors);
  FUZZ_CHECK(error_lines(tollway::sidecar::parse_sidecar_config(text, "fuzz.yaml", env).errors) == sidecar_errors);
  return 0;
}
