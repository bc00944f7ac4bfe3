#include "providers/translation/error_translation.h"

#include "providers/error_body.h"
#include "providers/translation/json_access.h"

namespace tollway::providers::translation {

ProviderError read_provider_error(std::string_view body) {
  ProviderError out;
  dom::parser parser;
  dom::element root, error;
  if (!parse_json(parser, body, root) || root["error"].get(error)) return out;
  std::string_view message, type;
  if (error.is_string()) {  // some OpenAI-compatible servers answer {"error": "text"}
    if (error.get_string().get(message)) return out;
  } else {
    if (error["message"].get_string().get(message)) return out;
    // OpenAI: `code` when set (rate_limit_exceeded, …), else `type`; Anthropic: the error's `type` is its code.
    type = root["type"].is_string() ? string_or(error["type"], type)
                                    : string_or(error["code"], string_or(error["type"], type));
  }
  out.type = type;
  out.message = message;
  out.recognised = true;
  return out;
}

std::string caller_error_body(config::Api caller, int status, std::string_view provider_name,
                              std::string_view provider_body) {
  ProviderError e = read_provider_error(provider_body);
  if (!e.recognised) {
    std::string_view start = provider_body.substr(0, 200);
    e.message = "Provider \"" + std::string(provider_name) + "\" answered HTTP " + std::to_string(status) +
                (start.empty() ? std::string(" without a body") : ": " + std::string(start));
    e.type = status >= 500 ? "upstream_error" : "upstream_client_error";
  }
  return error_body(caller, status, e.message, e.type);
}

}  // namespace tollway::providers::translation
