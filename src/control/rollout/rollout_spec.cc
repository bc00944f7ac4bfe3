#include "control/rollout/rollout_spec.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "core/json.h"
#include "core/units.h"

namespace tollway::control::rollout {
namespace {

constexpr int kMinPercent = 1, kMaxPercent = 99;

class Errors {
 public:
  Errors(const std::string& file, std::vector<std::string>& out) : file_(file), out_(out) {}
  void add(const YAML::Node& at, const std::string& key_path, const std::string& message) {
    std::string e = file_;
    if (at.IsDefined() && at.Mark().line >= 0) e += ":" + std::to_string(at.Mark().line + 1);
    out_.push_back(e + ": " + (key_path.empty() ? "" : key_path + ": ") + message);
    ++count_;
  }
  int count() const { return count_; }

 private:
  const std::string& file_;
  std::vector<std::string>& out_;
  int count_ = 0;
};

bool check_keys(const YAML::Node& map, const std::string& path, const std::set<std::string>& allowed, Errors& errors) {
  bool ok = true;
  for (const auto& entry : map) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (allowed.count(key)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    errors.add(entry.first, path.empty() ? key : path + "." + key, "unknown key (allowed: " + list + ")");
    ok = false;
  }
  return ok;
}

// "N" or "N.N" followed by '%': a fraction from 0 to 1.
std::optional<double> parse_percentage(std::string_view text) {
  if (text.size() < 2 || text.back() != '%') return std::nullopt;
  text.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value >= 0) || value > 100) return std::nullopt;
  return value / 100.0;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string percent_range_error(std::string_view given) {
  return "\"" + std::string(given) + "\" is not a percentage of nodes from " + std::to_string(kMinPercent) + " to " +
         std::to_string(kMaxPercent) + " (a canary of every node or of none compares nothing)";
}

bool valid_label(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void read_canary(const YAML::Node& node, RolloutSpec& spec, Errors& errors) {
  if (!node.IsMap()) {
    errors.add(node, "canary", "must be a mapping: {selector: {LABEL: VALUE}} or {percent: N}");
    return;
  }
  if (!check_keys(node, "canary", {"percent", "selector"}, errors)) return;
  const YAML::Node selector = node["selector"];
  const YAML::Node percent = node["percent"];
  if (selector.IsDefined() == percent.IsDefined()) {
    errors.add(node, "canary", "give one of selector (labels) or percent (of the nodes)");
    return;
  }
  if (percent.IsDefined()) {
    const auto value = percent.IsScalar() ? parse_int(percent.Scalar()) : std::nullopt;
    if (!value || *value < kMinPercent || *value > kMaxPercent) {
      errors.add(percent, "canary.percent", percent_range_error(percent.IsScalar() ? percent.Scalar() : "?"));
      return;
    }
    spec.canary.percent = *value;
    return;
  }
  if (!selector.IsMap() || selector.size() == 0) {
    errors.add(selector, "canary.selector", "must be a non-empty mapping of label names to values, e.g. {zone: a}");
    return;
  }
  for (const auto& entry : selector) {
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (!valid_label(name)) {
      errors.add(entry.first, "canary.selector", "\"" + name + "\" is not a label name (letters, digits, - _ .)");
    } else if (!entry.second.IsScalar()) {
      errors.add(entry.second, "canary.selector." + name, "must be a single value");
    } else {
      spec.canary.selector[name] = entry.second.Scalar();
    }
  }
}

void read_threshold(const YAML::Node& node, const std::string& path, double& out, Errors& errors) {
  const auto value = node.IsScalar() ? parse_percentage(node.Scalar()) : std::nullopt;
  if (!value) {
    errors.add(node, path,
               "must be a percentage from 0% to 100%, e.g. 5% (how far the canary's rate may rise above the other "
               "nodes')");
    return;
  }
  out = *value;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::string CanarySelection::text() const {
  if (selector.empty()) return std::to_string(percent) + "%";
  std::string out;
  for (const auto& [k, v] : selector) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

std::string RolloutSpec::to_json() const {
  json::ObjectWriter w;
  w.field("canary", canary.text())
      .field("hold_ms", static_cast<int64_t>(hold.count()))
      .field("min_requests", min_requests)
      .field("max_error_rate_increase", max_error_rate_increase)
      .field("max_deny_rate_increase", max_deny_rate_increase);
  return std::move(w).finish();
}

std::optional<RolloutSpec> parse_rollout_file(const std::string& file, const std::string& text,
                                              std::vector<std::string>& out) {
  Errors errors(file, out);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    out.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  RolloutSpec spec;
  if (root.IsNull()) return spec;  // an empty rollout.yaml: every default
  if (!root.IsMap()) {
    errors.add(root, "", "must be a mapping with canary, hold, min_requests and thresholds (all optional)");
    return std::nullopt;
  }
  check_keys(root, "", {"canary", "hold", "min_requests", "thresholds"}, errors);
  if (const YAML::Node canary = root["canary"]; canary.IsDefined()) read_canary(canary, spec, errors);
  if (const YAML::Node hold = root["hold"]; hold.IsDefined()) {
    const std::string given = hold.IsScalar() ? hold.Scalar() : "";
    const auto value = units::parse_duration(given);
    if (!given.empty() && given.front() == '-')
      errors.add(hold, "hold", "\"" + given + "\" is negative: the canary holds for a duration of 0s or more");
    else if (!value || *value > std::chrono::hours(24 * 7))
      errors.add(hold, "hold", "\"" + given + "\" is not a duration from 0s to 168h (e.g. 30s, 5m)");
    else
      spec.hold = *value;
  }
  if (const YAML::Node min = root["min_requests"]; min.IsDefined()) {
    const auto value = min.IsScalar() ? parse_int(min.Scalar()) : std::nullopt;
    if (!value || *value < 1 || *value > 100'000'000)
      errors.add(min, "min_requests",
                 "must be a whole number from 1 to 100000000: the requests the canary nodes answer before they are judged");
    else
      spec.min_requests = static_cast<uint64_t>(*value);
  }
  if (const YAML::Node thresholds = root["thresholds"]; thresholds.IsDefined()) {
    if (!thresholds.IsMap()) {
      errors.add(thresholds, "thresholds", "must be a mapping: {error_rate: 1%, deny_rate: 5%}");
    } else {
      check_keys(thresholds, "thresholds", {"deny_rate", "error_rate"}, errors);
      if (const YAML::Node e = thresholds["error_rate"]; e.IsDefined())
        read_threshold(e, "thresholds.error_rate", spec.max_error_rate_increase, errors);
      if (const YAML::Node d = thresholds["deny_rate"]; d.IsDefined())
        read_threshold(d, "thresholds.deny_rate", spec.max_deny_rate_increase, errors);
    }
  }
  if (errors.count() > 0) return std::nullopt;
  return spec;
}

std::optional<CanarySelection> parse_canary_option(std::string_view text, std::string& error) {
  CanarySelection selection;
  if (!text.empty() && text.back() == '%') {
    const auto value = parse_int(text.substr(0, text.size() - 1));
    if (!value || *value < kMinPercent || *value > kMaxPercent) {
      error = percent_range_error(text);
      return std::nullopt;
    }
    selection.percent = *value;
    return selection;
  }
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view pair = text.substr(start, comma - start);
    const auto equals = pair.find('=');
    const std::string_view name = pair.substr(0, equals);
    if (equals == std::string_view::npos || !valid_label(name) || equals + 1 == pair.size()) {
      error = "\"" + std::string(text) + "\" is not a canary: give LABEL=VALUE[,LABEL=VALUE…] (e.g. zone=a) or a "
              "percentage of the nodes (e.g. 10%)";
      return std::nullopt;
    }
    selection.selector[std::string(name)] = std::string(pair.substr(equals + 1));
    start = comma + 1;
  }
  return selection;
}

std::optional<RolloutSpec> spec_for(const std::optional<RolloutSpec>& from_file, std::string_view canary_option,
                                    const std::vector<DeclaredNode>& nodes, std::string& error) {
  if (canary_option.empty()) return from_file;
  const auto selection = parse_canary_option(canary_option, error);
  if (!selection || !select_canary(*selection, nodes, error)) return std::nullopt;
  RolloutSpec spec = from_file.value_or(RolloutSpec{});
  spec.canary = *selection;
  return spec;
}

std::optional<std::vector<std::string>> select_canary(const CanarySelection& selection,
                                                      const std::vector<DeclaredNode>& nodes, std::string& error) {
  if (nodes.size() < 2) {
    error = "a canary needs at least two declared nodes: the canary and others to compare it with";
    return std::nullopt;
  }
  std::vector<std::string> chosen;
  if (!selection.selector.empty()) {
    for (const auto& node : nodes) {
      const bool selected = std::all_of(selection.selector.begin(), selection.selector.end(), [&](const auto& label) {
        const auto it = node.labels.find(label.first);
        return it != node.labels.end() && it->second == label.second;
      });
      if (selected) chosen.push_back(node.id);
    }
    if (chosen.empty()) {
      error = "the canary selector " + selection.text() + " matches none of the declared nodes";
      return std::nullopt;
    }
    if (chosen.size() == nodes.size()) {
      error = "the canary selector " + selection.text() +
              " matches every declared node: there would be no other nodes to compare it with";
      return std::nullopt;
    }
  } else {
    if (selection.percent < kMinPercent || selection.percent > kMaxPercent) {
      error = percent_range_error(std::to_string(selection.percent) + "%");
      return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> ranked;  // sha256(id), id
    for (const auto& node : nodes) ranked.emplace_back(sha256_hex(node.id), node.id);
    std::sort(ranked.begin(), ranked.end());
    const auto n = static_cast<double>(nodes.size());
    auto count = static_cast<std::size_t>(std::ceil(n * selection.percent / 100.0));
    count = std::clamp<std::size_t>(count, 1, nodes.size() - 1);
    for (std::size_t i = 0; i < count; ++i) chosen.push_back(ranked[i].second);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace tollway::control::rollout
