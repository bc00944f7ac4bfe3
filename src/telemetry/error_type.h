// The OpenTelemetry `error.type` of a finished GenAI call, as gen_ai.server.request.duration carries it
// (Prometheus label `error_type`): empty when the call succeeded, otherwise one value of a fixed, documented
// set, so the label never multiplies series beyond kErrorTypes.size() per operation / provider / model. It
// only classifies; it never returns a caller- or provider-controlled string (a provider's error event type,
// an unlisted status code).
#pragma once

#include <array>
#include <string_view>

namespace tollway::telemetry {

// How a call ended, as far as error.type cares.
struct CallEnding {
  int status = 0;  // HTTP status sent to the client (0: none was sent)
  // The gateway answered 504 itself: the provider did not connect or answer in time.
  bool gateway_timeout = false;
  // A response already relayed to the client (its head sent) that did not end normally:
  bool client_gone = false;           // the client went away first
  bool body_timeout = false;          // the exchange outlived timeouts.upstream_total
  bool body_broken = false;           // the provider closed, reset or malformed the body
  bool provider_error_event = false;  // the provider sent an error event inside a 2xx stream
};

// Every value genai_error_type() can return: the HTTP statuses callers most often see from LLM APIs (529 is
// Anthropic's "overloaded"), then the gateway's own classes, then the OTel fallback "_OTHER".
// clang-format off
inline constexpr std::array<std::string_view, 19> kErrorTypes = {
    "400", "401", "403", "404", "408", "409", "413", "422", "429", "500", "502", "503", "504", "529",
    "timeout", "response_cut", "provider_error_event", "client_closed", "_OTHER"};
// clang-format on

// "" for a success (a 1xx-3xx status and a body that ended normally), else a value of kErrorTypes:
// - timeout: the provider did not answer in time (the gateway's 504) or a started response exceeded
//   timeouts.upstream_total;
// - a status of 400 or more: that status when listed, "_OTHER" when not;
// - response_cut / client_closed / provider_error_event: a 2xx response that did not end normally;
// - "_OTHER" when no status was sent for another reason.
std::string_view genai_error_type(const CallEnding& ending);

}  // namespace tollway::telemetry
