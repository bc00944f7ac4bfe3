#include "providers/error_body.h"

#include "core/json.h"
#include "providers/gemini/gemini_call.h"

namespace tollway::providers {
namespace {

std::string_view openai_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string_view anthropic_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace

std::string error_body(config::Api api, int status, std::string_view message, std::string_view code) {
  if (api == config::Api::Gemini) return gemini::error_body(status, message);
  if (api == config::Api::Anthropic) {
    json::ObjectWriter inner;
    inner.field("type", anthropic_type(status)).field("message", message);
    json::ObjectWriter outer;
    outer.field("type", "error").raw_field("error", std::move(inner).finish());
    return std::move(outer).finish();
  }
  json::ObjectWriter inner;
  inner.field("message", message).field("type", openai_type(status)).null_field("param").field("code", code);
  json::ObjectWriter outer;
  outer.raw_field("error", std::move(inner).finish());
  return std::move(outer).finish();
}

config::Api guess_api(std::string_view path, bool has_anthropic_version_header) {
  if (has_anthropic_version_header || path == "/v1/messages" || path.starts_with("/v1/messages/"))
    return config::Api::Anthropic;
  return config::Api::OpenAI;
}

}  // namespace tollway::providers
