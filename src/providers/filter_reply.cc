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

}  // namespace tollway::providers
