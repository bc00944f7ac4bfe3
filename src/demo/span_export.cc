#include "demo/span_export.h"

#include <map>

#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::demo {

namespace {

constexpr int kSpanKindServer = 2;   // OTLP SpanKind SPAN_KIND_SERVER
constexpr int kStatusOk = 1;         // STATUS_CODE_OK
constexpr int kStatusError = 2;      // STATUS_CODE_ERROR

std::string span_json(const AgentSpan& s) {
  json::ObjectWriter status;
  status.field("code", s.error ? kStatusError : kStatusOk);
  json::ObjectWriter span;
  span.field("traceId", s.trace_id).field("spanId", s.span_id).field("name", s.name).field("kind", kSpanKindServer)
      .field("startTimeUnixNano", std::to_string(s.start_unix_ns))
      .field("endTimeUnixNano", std::to_string(s.end_unix_ns)).raw_field("status", std::move(status).finish());
  return std::move(span).finish();
}

}  // namespace

std::string otlp_json_of(const std::vector<AgentSpan>& spans) {
  std::map<std::string, std::string> spans_by_service;  // service -> comma-joined span objects
  for (const auto& s : spans) {
    std::string& list = spans_by_service[s.service];
    if (!list.empty()) list += ',';
    list += span_json(s);
  }
  std::string resources;
  for (const auto& [service, list] : spans_by_service) {
    if (!resources.empty()) resources += ',';
    resources += R"({"resource":{"attributes":[{"key":"service.name","value":{"stringValue":)" + json::quoted(service) +
                 R"(}}]},"scopeSpans":[{"scope":{"name":"tollway-demo-agents"},"spans":[)" + list + "]}]}";
  }
  return R"({"resourceSpans":[)" + resources + "]}";
}

std::size_t trace_span_count(std::string_view trace_json) {
  std::string error;
  const auto doc = core::strict_json::parse(trace_json, error, core::strict_json::ParseLimits{8 << 20, 32});
  const core::strict_json::Value* spans = doc ? doc->find("spans") : nullptr;
  return spans != nullptr && spans->is_array() ? spans->items().size() : 0;
}

}  // namespace tollway::demo
