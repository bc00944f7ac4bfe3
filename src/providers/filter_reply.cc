#include "providers/filter_reply.h"

#include "providers/error_body.h"

namespace tollway::providers {

pipeline::Verdict reply_error(pipeline::RequestCtx& ctx, int status, std::string message, std::string_view code) {
  ctx.reply.status = status;
  ctx.reply.body = error_body(ctx.api, status, message, code);
  ctx.outcome.error = std::move(message);
  ctx.outcome.error_code = std::string(code);
  return pipeline::Verdict::Replied;
}

bool body_is_json(const pipeline::RequestCtx& ctx) {
  if (ctx.body.empty()) return false;
  const auto type = ctx.head->find("content-type");
  return !type || !(type->starts_with("multipart/") || type->starts_with("application/octet-stream"));
}

}  // namespace tollway::providers
