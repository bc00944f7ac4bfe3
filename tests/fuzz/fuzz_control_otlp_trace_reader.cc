// libFuzzer target for the control plane's OTLP JSON trace reader (control/traces/otlp_trace_reader.h), which reads
// every POST /v1/traces body, and for what the window and its queries do with what it accepts. Invariants: a body
// that is refused gets a non-empty reason and gives no spans; every span accepted has valid ids and a start before
// its end; a window of 8 spans given them never holds more than 8, and the JSON of its list and of each of its traces
// parses (strictly) with every span once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/traces/otlp_trace_reader.h"
#include "control/traces/trace_queries.h"
#include "control/traces/trace_window.h"
#include "core/strict_json.h"
#include "fuzz_check.h"

namespace traces = tollway::control::traces;
namespace sj = tollway::core::strict_json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto spans = traces::read_otlp_traces(text, error);
  if (!spans) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  for (const auto& s : *spans) {
    FUZZ_CHECK(s.trace_id.valid() && s.span.span_id.valid());
    FUZZ_CHECK(s.span.start_unix_nano > 0 && s.span.start_unix_nano <= s.span.end_unix_nano);
    FUZZ_CHECK(s.span.service != nullptr);
  }
  traces::TraceWindow window(8);
  const std::size_t given = spans->size();
  const auto added = window.add(std::move(*spans));
  FUZZ_CHECK(window.spans_held() <= 8);
  FUZZ_CHECK(added.accepted + added.duplicate + added.rejected == given);
  sj::ParseLimits limits;
  limits.max_bytes = 1 << 24;
  std::string parse_error;
  FUZZ_CHECK(sj::parse(traces::trace_list_json(window, 1000), parse_error, limits));
  for (const auto* trace : window.newest(1000)) {
    const auto json = sj::parse(traces::trace_json(*trace), parse_error, limits);
    FUZZ_CHECK(json && json->find("spans") && json->find("spans")->items().size() == trace->spans.size());
  }
  return 0;
}
