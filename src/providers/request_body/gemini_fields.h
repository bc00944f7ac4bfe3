// The request fields of a call on a Gemini route: the model and the stream flag come from the path
// (`models/{model}:streamGenerateContent`), the output limit from `generationConfig.maxOutputTokens`, so that
// every policy that reads RequestFields (allowed models, model rules, prices, limits) sees the path's model as
// it sees a body's "model". Never rewrites the body or the path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/request_fields.h"

namespace tollway::providers {

// Completes `fields` (nullopt: no body was read; it is created when the path names a model). Returns "" or the
// reason the request is refused (400), one sentence safe to show the caller.
std::string read_gemini_fields(std::string_view path, const std::string& body, std::optional<RequestFields>& fields);

}  // namespace tollway::providers
