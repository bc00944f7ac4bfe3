#include "telemetry/error_type.h"

#include <charconv>

namespace tollway::telemetry {
namespace {

constexpr std::size_t kStatusTypes = 14;  // the leading status codes of kErrorTypes

std::string_view status_type(int status) {
  char text[4];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, status);
  if (ec != std::errc()) return "_OTHER";
  const std::string_view written(text, static_cast<std::size_t>(end - text));
  for (std::size_t i = 0; i < kStatusTypes; ++i)
    if (kErrorTypes[i] == written) return kErrorTypes[i];
  return "_OTHER";
}

}  // namespace

std::string_view genai_error_type(const CallEnding& e) {
  if (e.gateway_timeout || e.body_timeout) return "timeout";
  if (e.status >= 400) return status_type(e.status);
  if (e.client_gone) return "client_closed";
  if (e.body_broken) return "response_cut";
  if (e.provider_error_event) return "provider_error_event";
  if (e.status == 0) return "_OTHER";
  return {};
}

}  // namespace tollway::telemetry
