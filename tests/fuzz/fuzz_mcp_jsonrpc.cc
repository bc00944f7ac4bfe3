// libFuzzer target for the MCP / JSON-RPC reader and its edits (mcp/jsonrpc.h, mcp/operation.h, mcp/edit.h),
// which read every MCP body a sidecar authorizes and rewrite the ones it forwards. Invariants: a body that is not
// read gets a reason and a JSON-RPC code (-32700 or -32600); every message read is consistent with its kind and
// reads again alone from its own bytes; writing trace context into params._meta leaves a body that reads as the
// same messages, each request carrying exactly the traceparent written and its other params; filtering a list
// result keeps exactly the items the predicate accepts, and reads again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "mcp/edit.h"
#include "mcp/jsonrpc.h"
#include "mcp/operation.h"

namespace {

namespace mcp = tollway::mcp;
constexpr std::string_view kTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

bool is_call(const mcp::Message& m) {
  return m.kind == mcp::Message::Kind::Request || m.kind == mcp::Message::Kind::Notification;
}

std::size_t params_members(const mcp::Message& m) {
  if (m.params == nullptr) return 0;
  std::size_t n = 0;
  for (const auto& member : m.params->members()) n += member.first != "_meta";
  return n;
}

void check_message(std::string_view text, const mcp::Message& m) {
  FUZZ_CHECK(m.value != nullptr && m.value->end() <= text.size() && m.value->begin() < m.value->end());
  switch (m.kind) {
    case mcp::Message::Kind::Request: FUZZ_CHECK(!m.id.empty() && !m.method.empty()); break;
    case mcp::Message::Kind::Notification: FUZZ_CHECK(m.id.empty() && !m.method.empty()); break;
    case mcp::Message::Kind::Result: FUZZ_CHECK(!m.id.empty() && m.result != nullptr && m.result->is_object()); break;
    case mcp::Message::Kind::Error: FUZZ_CHECK(m.error != nullptr && m.error->is_object()); break;
  }
  FUZZ_CHECK(m.id.empty() == m.id_key.empty());
  if (!m.id_key.empty()) FUZZ_CHECK(m.id_key.starts_with("s:") || m.id_key.starts_with("i:"));
  if (m.params != nullptr) FUZZ_CHECK(m.params->is_object());
  // The message alone, from its own bytes, reads the same.
  mcp::ReadError error;
  const auto alone = mcp::read_envelope(text.substr(m.value->begin(), m.value->end() - m.value->begin()), error);
  FUZZ_CHECK(alone && !alone->batch && alone->messages.size() == 1);
  const mcp::Message& again = alone->messages[0];
  FUZZ_CHECK(again.kind == m.kind && again.method == m.method && again.id == m.id && again.id_key == m.id_key);
  if (is_call(m)) {
    mcp::Operation op;
    std::string why;
    if (!mcp::read_operation(m, op, why)) FUZZ_CHECK(!why.empty());
    else FUZZ_CHECK(op.method == m.method && op.id == m.id);
  }
}

void check_trace_meta(std::string_view text, const mcp::Envelope& envelope) {
  std::vector<mcp::TraceMeta> metas(envelope.messages.size());
  for (auto& meta : metas) meta = {std::string(kTraceparent), "k=v"};
  const std::string edited = mcp::with_trace_meta(text, envelope, metas);
  mcp::ReadError error;
  const auto again = mcp::read_envelope(edited, error, {16 << 20, 66});
  FUZZ_CHECK(again && again->batch == envelope.batch && again->messages.size() == envelope.messages.size());
  for (std::size_t i = 0; i < envelope.messages.size(); ++i) {
    const mcp::Message& before = envelope.messages[i];
    const mcp::Message& after = again->messages[i];
    FUZZ_CHECK(after.kind == before.kind && after.method == before.method && after.id == before.id);
    if (!is_call(before)) continue;
    FUZZ_CHECK(after.params != nullptr);
    const auto* meta = after.params->find("_meta");
    FUZZ_CHECK(meta != nullptr && meta->is_object());
    FUZZ_CHECK(meta->string_member("traceparent") == kTraceparent);
    FUZZ_CHECK(meta->string_member("tracestate") == std::string_view("k=v"));
    FUZZ_CHECK(params_members(after) == params_members(before));
  }
}

// Filters messages[index] (a result) as a tools/list answer, keeping names of even length.
void check_list_filter(std::string_view text, const mcp::Envelope& envelope, std::size_t index) {
  const mcp::Message& m = envelope.messages[index];
  const mcp::ListShape& shape = *mcp::list_shape("tools/list");
  const auto* list = m.result->find(shape.array);
  const auto keep = [](std::string_view name) { return name.size() % 2 == 0; };
  std::size_t expected = 0;
  if (list != nullptr && list->is_array())
    for (const auto& item : list->items())
      if (auto name = item.string_member(shape.key)) expected += keep(*name);
  std::string out;
  const bool filtered = mcp::filter_list_result(text, m, shape, keep, out);
  FUZZ_CHECK(filtered == (list != nullptr && list->is_array()));
  if (!filtered) return;
  mcp::ReadError error;
  const auto again = mcp::read_envelope(out, error, {16 << 20, 66});
  FUZZ_CHECK(again && again->messages.size() == envelope.messages.size());
  const mcp::Message& edited = again->messages[index];
  FUZZ_CHECK(edited.kind == mcp::Message::Kind::Result && edited.id_key == m.id_key);
  const auto* kept = edited.result->find(shape.array);
  FUZZ_CHECK(kept != nullptr && kept->is_array() && kept->items().size() == expected);
  for (const auto& item : kept->items()) FUZZ_CHECK(keep(*item.string_member(shape.key)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mcp::ReadError error;
  const auto envelope = mcp::read_envelope(text, error);
  if (!envelope) {
    FUZZ_CHECK(!error.message.empty());
    FUZZ_CHECK(error.code == mcp::kParseError || error.code == mcp::kInvalidRequest);
    return 0;
  }
  FUZZ_CHECK(!envelope->messages.empty());
  if (!envelope->batch) FUZZ_CHECK(envelope->messages.size() == 1);
  for (const auto& m : envelope->messages) check_message(text, m);
  check_trace_meta(text, *envelope);
  for (std::size_t i = 0; i < envelope->messages.size(); ++i)
    if (envelope->messages[i].kind == mcp::Message::Kind::Result) check_list_filter(text, *envelope, i);
  return 0;
}
