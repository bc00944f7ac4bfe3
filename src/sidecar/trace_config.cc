#include "sidecar/trace_config.h"

#include <charconv>

#include "telemetry/config.h"

namespace tollway::sidecar {

void read_trace_sections(config::Validator& v, const YAML::Node& root, SidecarConfig& c) {
  if (const YAML::Node t = root["telemetry"]; t.IsDefined() && !t.IsNull()) {
    config::TelemetryConfig telemetry;
    telemetry.service_name = "tollway-sidecar";
    config::read_telemetry_section(v, root, telemetry);
    if (telemetry.enabled) c.telemetry = std::move(telemetry);
  }
  v.optional_string(root, "orphans", "", [&](const YAML::Node& node, const std::string& text) {
    if (text == "log")
      c.orphans = SidecarConfig::Orphans::Log;
    else if (text == "repair")
      c.orphans = SidecarConfig::Orphans::Repair;
    else
      v.fail(node, "orphans", "\"" + text + "\" is not log or repair");
  });
  v.optional_string(root, "max_hops", "", [&](const YAML::Node& node, const std::string& text) {
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 255)
      return v.fail(node, "max_hops", "\"" + text + "\" is not a hop count from 1 to 255");
    c.max_hops = n;
  });
  const YAML::Node f = root["fanout"];
  if (!f.IsDefined() || f.IsNull()) return;
  if (!v.check_mapping(f, "fanout", {"secret"})) return;
  if (!f["secret"].IsDefined())
    return v.fail(f, "fanout.secret", "required: the gateway's limits.fanout.secret");
  v.optional_string(f, "secret", "fanout.", [&](const YAML::Node& node, const std::string& text) {
    if (text.size() < 32)
      return v.fail(node, "fanout.secret", "must be at least 32 bytes (an HMAC-SHA256 key)");
    c.fanout_secret = text;
  });
}

}  // namespace tollway::sidecar
