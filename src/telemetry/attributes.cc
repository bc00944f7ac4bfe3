#include "telemetry/attributes.h"

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

Resource Resource::for_service(std::string_view name, std::string_view version, std::string_view instance_id) {
  Resource r;
  r.attributes.set("service.name", name);
  if (!version.empty()) r.attributes.set("service.version", version);
  if (!instance_id.empty()) r.attributes.set("service.instance.id", instance_id);
  return r;
}

}  // namespace tollway::telemetry
