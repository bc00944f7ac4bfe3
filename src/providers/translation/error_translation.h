// Error bodies across the two APIs: a provider's error (OpenAI {"error":{message,type,code}} or Anthropic
// {"type":"error","error":{type,message}}, whole bodies or stream error events) is re-written in the caller's
// format with the same status, so the caller's SDK raises its own typed error (RateLimitError, …). A body that
// is neither becomes a caller-format error quoting its first bytes. It never invents a status and never
// reads anything but the error's type and message.
#pragma once

#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace tollway::providers::translation {

struct ProviderError {
  std::string type;     // OpenAI error.type or error.code, Anthropic error.type; "" when absent
  std::string message;  // "" when the body is not a recognised error
  bool recognised = false;
};

// Reads either API's error shape.
ProviderError read_provider_error(std::string_view body);

// The body the caller gets for a provider error answer with `status`.
std::string caller_error_body(config::Api caller, int status, std::string_view provider_name,
                              std::string_view provider_body);

}  // namespace tollway::providers::translation
