// What every filter that answers a request itself needs: the error reply in the caller's API format (status,
// body, outcome reason) and the test for "this body is the JSON the provider APIs take". It never sends
// anything; the driver writes ctx.reply.
#pragma once

#include <string>
#include <string_view>

#include "pipeline/filter.h"

namespace tollway::providers {

// Fills ctx.reply and ctx.outcome with an error in ctx.api's format; returns Verdict::Replied.
pipeline::Verdict reply_error(pipeline::RequestCtx& ctx, int status, std::string message, std::string_view code);

// The provider APIs take JSON bodies; only uploads (multipart, raw bytes) are passed through unread.
bool body_is_json(const pipeline::RequestCtx& ctx);

}  // namespace tollway::providers
