// Error bodies in the caller's API format, so an SDK raises its own typed error with our message:
// OpenAI {"error":{"message","type","param","code"}}, Anthropic {"type":"error","error":{"type","message"}} and
// Gemini {"error":{"code","message","status"}}.
// It only formats; it never decides a status and never puts a secret in a message.
#pragma once

#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace tollway::providers {

// `code` is a stable machine-readable reason such as "unknown_route" (OpenAI's `code` field).
std::string error_body(config::Api api, int status, std::string_view message, std::string_view code);

// The API format to use before a route is known: Anthropic for /v1/messages paths and requests that carry
// `anthropic-version`, OpenAI otherwise.
config::Api guess_api(std::string_view path, bool has_anthropic_version_header);

}  // namespace tollway::providers
