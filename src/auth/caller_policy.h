// CallerPolicy: what one authenticated caller may do (allowed route and model globs, max_tokens cap) plus the
// limits/budgets attached to its credential for the limits issue. Built once per virtual key or JWT issuer and
// shared read-only by every request of that caller; it holds no secrets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tollway::auth {

struct CallerPolicy {
  std::vector<std::string> routes;  // globs on the request path; empty = any
  std::vector<std::string> models;  // globs on the body's "model"; empty = any
  uint64_t max_tokens = 0;          // cap on max_tokens / max_completion_tokens / max_output_tokens; 0 = none
  // Limits and budgets of the credential (the limits issue reads them; JSON object text, "{}" when none).
  std::string limits_json = "{}";
};

}  // namespace tollway::auth
