#include "mcp/operation.h"

#include <array>

namespace tollway::mcp {
namespace {

constexpr std::array<ListShape, 4> kListShapes{{
    {"tools/list", "tools", "name", TargetKind::Tool},
    {"prompts/list", "prompts", "name", TargetKind::Prompt},
    {"resources/list", "resources", "uri", TargetKind::Resource},
    {"resources/templates/list", "resourceTemplates", "uriTemplate", TargetKind::Resource},
}};

// The string member `key` of params into `out`; false with `why` when params or the member is missing or not a
// string.
bool required_string(const Message& m, std::string_view key, std::string& out, std::string& why) {
  const Json* v = m.params != nullptr ? m.params->find(key) : nullptr;
  if (v == nullptr || !v->is_string()) {
    why = m.method + " needs params." + std::string(key) + " as a string";
    return false;
  }
  out = v->as_string();
  return true;
}

}  // namespace

bool read_operation(const Message& message, Operation& out, std::string& why) {
  out = Operation{};
  out.method = message.method;
  out.id = message.id;
  out.id_key = message.id_key;
  const std::string& m = message.method;
  if (m == "tools/call") {
    out.kind = TargetKind::Tool;
    if (!required_string(message, "name", out.target, why)) return false;
    const Json* arguments = message.params->find("arguments");
    if (arguments != nullptr && !arguments->is_object()) {
      why = "tools/call params.arguments must be an object";
      return false;
    }
  } else if (m == "prompts/get") {
    out.kind = TargetKind::Prompt;
    if (!required_string(message, "name", out.target, why)) return false;
  } else if (m == "resources/read" || m == "resources/subscribe" || m == "resources/unsubscribe") {
    out.kind = TargetKind::Resource;
    if (!required_string(message, "uri", out.target, why)) return false;
  }
  const Json* meta = message.params != nullptr ? message.params->find("_meta") : nullptr;
  if (meta == nullptr) return true;
  if (!meta->is_object()) {
    why = "params._meta must be an object";
    return false;
  }
  for (const auto& [key, value] : meta->members()) {
    if (key != "traceparent" && key != "tracestate") continue;
    if (!value.is_string()) {
      why = "params._meta." + key + " must be a string";
      return false;
    }
    (key == "traceparent" ? out.traceparent : out.tracestate) = value.as_string();
  }
  return true;
}

const ListShape* list_shape(std::string_view method) {
  for (const auto& shape : kListShapes)
    if (shape.method == method) return &shape;
  return nullptr;
}

}  // namespace tollway::mcp
