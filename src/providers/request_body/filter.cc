#include "providers/request_body/filter.h"

#include "core/json_syntax.h"

#include "providers/gemini/gemini_call.h"
#include "providers/routing/route_choice.h"
#include "providers/request_body/gemini_fields.h"
#include "providers/request_fields.h"

namespace tollway::providers {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The endpoints whose request is a JSON object naming a model: a POST to them without a body is a mistake,
// and forwarding it would let the provider pick a model no policy saw.
bool endpoint_takes_model_request(config::Api api, std::string_view path) {
  if (api == config::Api::Gemini) {
    const auto call = gemini::parse_call(path);
    return call && gemini::takes_model_request(call->method);
  }
  if (api == config::Api::Anthropic)
    return ends_with(path, "/messages") || ends_with(path, "/messages/count_tokens");
  return ends_with(path, "/chat/completions") || ends_with(path, "/completions") ||
         ends_with(path, "/responses") || ends_with(path, "/embeddings");
}

std::string route_name(const config::RouteConfig& route) {
  return (route.is_prefix ? "Route prefix " : "Route ") + route.path;
}

// On a Gemini route the model and stream flag come from the path (providers/request_body/gemini_fields.h).
pipeline::Verdict gemini_fields(pipeline::RequestCtx& ctx) {
  if (route_of(ctx)->api != config::Api::Gemini) return pipeline::Verdict::Continue;
  const std::string error = read_gemini_fields(ctx.head->path(), ctx.body, ctx.body_fields);
  if (!error.empty()) return pipeline::reply_error(ctx, 400, error, "invalid_request");
  return pipeline::Verdict::Continue;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
  const std::string_view media = trimmed(content_type.substr(0, content_type.find(';')));
  const auto slash = media.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  if (http::iequals(media, "application/json")) return true;
  const std::string_view subtype = media.substr(slash + 1);
  return subtype.size() > 5 && http::iequals(subtype.substr(subtype.size() - 5), "+json");
}

asio::awaitable<pipeline::Verdict> RequestBodyFilter::authorize(pipeline::RequestCtx& ctx) {
  const config::RouteConfig& route = *route_of(ctx);
  if (route.body == config::RouteBody::Raw) co_return pipeline::Verdict::Continue;
  for (const auto& h : ctx.head->headers) {
    if (!http::iequals(h.name, "content-type") || is_json_media_type(h.value)) continue;
    const std::string_view media = trimmed(h.value.substr(0, h.value.find(';')));
    co_return pipeline::reply_error(ctx, 415,
                          route_name(route) +
                              " takes JSON request bodies (Content-Type: application/json); this "
                              "request's Content-Type is \"" +
                              std::string(media.substr(0, 100)) + "\".",
                          "unsupported_media_type");
  }
  if (ctx.body.empty()) {
    if (ctx.head->method == "POST" && endpoint_takes_model_request(route.api, ctx.head->path()))
      co_return pipeline::reply_error(ctx, 400,
                            "POST " + std::string(ctx.head->path()) +
                                " needs a JSON object body naming a model; the request has no body.",
                            "invalid_json");
    co_return gemini_fields(ctx);
  }
  std::string error;
  ctx.body_fields = read_request_fields(ctx.body, error);
  if (!ctx.body_fields) {
    // simdjson says whether; the scanner says where (only on this error path).
    if (auto where = core::find_json_syntax_error(ctx.body))
      error = "the request body is not valid JSON at " + where->to_string();
    co_return pipeline::reply_error(ctx, 400, "Invalid request body: " + error, "invalid_json");
  }
  co_return gemini_fields(ctx);
}

}  // namespace tollway::providers
