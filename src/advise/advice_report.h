// AdviceReport: `tollway advise`'s two outputs of one Advice — a text table a person reads in one screen (at most
// 40 lines of at most 120 columns) and JSON (the shape docs/decision.md lists; the control plane's GET /v1/advice
// serves it for a measurement without a questionnaire). It only formats: it never decides, measures or reads.
#pragma once

#include <string>

#include "advise/advice.h"

namespace tollway::advise {

std::string advice_text(const Advice& advice);
std::string advice_json(const Advice& advice);

}  // namespace tollway::advise
