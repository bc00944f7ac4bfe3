// RequestBodyFilter: the first step of the authorize phase. On a route with `body: json` it reads the request
// body as a JSON object — whatever its Content-Type claims, and once — into ctx.body_fields, so that
// authorization, limits and routing all decide on the fields the provider will read. It refuses, in the
// caller's API format and before anything is forwarded: a Content-Type that is present and not JSON (415), an
// empty body on an endpoint whose request names a model, and a body that is not one well-formed JSON object
// (400). On a `body: raw` route it reads nothing. It never modifies the body and never decides who may call
// what.
#pragma once

#include <string_view>

#include "pipeline/filter.h"

namespace tollway::providers {

namespace asio = boost::asio;

// True for `application/json` and any `type/subtype+json`, parameters allowed (`application/json;
// charset=utf-8`).
bool is_json_media_type(std::string_view content_type);

class RequestBodyFilter final : public pipeline::Filter {
 public:
  std::string_view name() const override { return "request_body"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
};

}  // namespace tollway::providers
