// What every filter that answers a request itself needs: the error reply in the caller's API format (status,
// body, outcome reason). It never sends anything; the driver writes ctx.reply.
#pragma once

#include <string>
#include <string_view>

#include "pipeline/filter.h"

namespace tollway::providers {

// Fills ctx.reply and ctx.outcome with an error in ctx.api's format; returns Verdict::Replied.
pipeline::Verdict reply_error(pipeline::RequestCtx& ctx, int status, std::string message, std::string_view code);

}  // namespace tollway::providers
