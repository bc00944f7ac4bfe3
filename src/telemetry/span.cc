#include "telemetry/span.h"

namespace tollway::telemetry {

const Attribute* AttributeList::find(std::string_view key) const {
  for (const auto& a : items_)
    if (a.key == key) return &a;
  return nullptr;
}

void AttributeList::put(std::string_view key, AttributeValue value) {
  for (auto& a : items_) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  items_.push_back(Attribute{std::string(key), std::move(value)});
}

void Span::set_context(const SpanContext& context) {
  trace_id = context.trace_id;
  span_id = context.span_id;
  trace_flags = context.flags & kTraceFlagSampled;
  trace_state = context.trace_state.serialize();
}

void Span::set_parent(const SpanContext& parent) {
  parent_span_id = parent.span_id;
  parent_is_remote = parent.remote;
}

Resource Resource::for_service(std::string_view name, std::string_view version, std::string_view instance_id) {
  Resource r;
  r.attributes.set("service.name", name);
  if (!version.empty()) r.attributes.set("service.version", version);
  if (!instance_id.empty()) r.attributes.set("service.instance.id", instance_id);
  return r;
}

}  // namespace tollway::telemetry
