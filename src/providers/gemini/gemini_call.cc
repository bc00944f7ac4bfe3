#include "providers/gemini/gemini_call.h"

#include <simdjson.h>

#include "core/json.h"

namespace tollway::providers::gemini {
namespace od = simdjson::ondemand;

namespace {

// Google's canonical status names for the HTTP statuses the gateway answers with.
std::string_view status_name(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 413: return "INVALID_ARGUMENT";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 501: return "UNIMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

}  // namespace

bool is_model_name(std::string_view model) {
  if (model.empty() || model.size() > 256) return false;
  for (char ch : model) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                    ch == '.' || ch == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<GeminiCall> parse_call(std::string_view path) {
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  constexpr std::string_view kModels = "/models/";
  const auto at = path.rfind(kModels);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = path.substr(at + kModels.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos || rest.find('/') != std::string_view::npos) return std::nullopt;
  GeminiCall call;
  call.model = rest.substr(0, colon);
  call.method = rest.substr(colon + 1);
  call.model_offset = at + kModels.size();
  if (call.method.empty()) return std::nullopt;
  return call;
}

bool takes_model_request(std::string_view method) {
  return method == "generateContent" || method == "streamGenerateContent" || method == "countTokens";
}

bool is_stream_method(std::string_view method) { return method == "streamGenerateContent"; }

std::optional<uint64_t> max_output_tokens(std::string_view body, std::string& error) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) {
    error = "the request body is not a JSON object";
    return std::nullopt;
  }
  std::optional<uint64_t> limit;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key != "generationConfig") continue;
    od::object config;
    if (field.value().get_object().get(config)) {
      error = "generationConfig must be an object";
      return std::nullopt;
    }
    for (auto inner : config) {
      std::string_view inner_key;
      if (inner.unescaped_key().get(inner_key)) break;
      if (inner_key != "maxOutputTokens") continue;
      uint64_t n = 0;
      if (inner.value().get_uint64().get(n)) {
        error = "generationConfig.maxOutputTokens must be a non-negative integer";
        return std::nullopt;
      }
      limit = n;
    }
  }
  return limit;
}

std::string rewrite_target(std::string_view target, std::string_view model, bool drop_key) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  std::string out;
  out.reserve(target.size() + model.size());
  if (auto call = parse_call(path); call && !model.empty()) {
    out.append(path.substr(0, call->model_offset)).append(model).append(path.substr(call->model_offset + call->model.size()));
  } else {
    out.append(path);
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  bool first = true;
  while (true) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const bool is_key = param == "key" || param.starts_with("key=");
    if (!(drop_key && is_key)) {
      out.push_back(first ? '?' : '&');
      out.append(param);
      first = false;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string error_body(int status, std::string_view message) {
  json::ObjectWriter inner;
  inner.field("code", status).field("message", message).field("status", status_name(status));
  json::ObjectWriter outer;
  outer.raw_field("error", std::move(inner).finish());
  return std::move(outer).finish();
}

}  // namespace tollway::providers::gemini
