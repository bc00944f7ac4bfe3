#include "providers/request_body/gemini_fields.h"

#include "providers/gemini/gemini_call.h"

namespace tollway::providers {

std::string read_gemini_fields(std::string_view path, const std::string& body, std::optional<RequestFields>& fields) {
  const auto call = gemini::parse_call(path);
  if (!call) return "";  // no model in the path (e.g. GET /v1beta/models)
  if (!gemini::is_model_name(call->model))
    return "The path's model \"" + std::string(call->model.substr(0, 100)) +
           "\" is not a model name (letters, digits, '-', '.', '_').";
  if (fields && fields->model && *fields->model != call->model)
    return "The body names model \"" + fields->model->substr(0, 100) + "\" but the path names \"" +
           std::string(call->model) + "\"; a Gemini request names its model in the path only.";
  if (!fields) fields.emplace();
  fields->model = std::string(call->model);
  fields->model_in_path = true;
  fields->stream = gemini::is_stream_method(call->method);
  fields->max_output_tokens.reset();
  if (!body.empty()) {
    std::string error;
    fields->max_output_tokens = gemini::max_output_tokens(body, error);
    if (!error.empty()) return "Invalid request body: " + error + ".";
  }
  return "";
}

}  // namespace tollway::providers
