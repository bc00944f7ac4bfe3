#include "control/node_scope.h"

#include <yaml-cpp/yaml.h>

namespace tollway::control {
namespace {

// The key of a `key:` / `key: value` / `"key": value` line (after its indentation) and where its value starts, or
// nullopt when the line is not one.
std::optional<std::pair<std::string, std::size_t>> line_key(std::string_view body) {
  std::size_t n = 0;
  std::string key;
  if (!body.empty() && (body[0] == '"' || body[0] == '\'')) {
    const auto close = body.find(body[0], 1);
    if (close == std::string_view::npos) return std::nullopt;
    key = std::string(body.substr(1, close - 1));
    n = close + 1;
  } else {
    while (n < body.size() && key_char(body[n])) ++n;
    key = std::string(body.substr(0, n));
  }
  if (key.empty() || n >= body.size() || body[n] != ':') return std::nullopt;
  if (n + 1 < body.size() && body[n + 1] != ' ') return std::nullopt;
  return std::pair{key, n + 1};
}

struct Child {
  std::string key;
  std::size_t first = 0;  // its `key:` line
  std::size_t last = 0;   // one past its last line (comments and blank lines after it included)
};

// The children of the block mapping whose `key:` line is lines[header] and whose value runs to `end`; nullopt
// when it is not written one `key:` per line (`why` says how).
std::optional<std::vector<Child>> children_of(const std::vector<std::string_view>& lines, std::size_t header,
                                              std::size_t end, std::string& why) {
  const std::string_view head = lines[header];
  const auto key = line_key(head.substr(leading_spaces(head)));
  if (!key) {
    why = "not a `key:` line";
    return std::nullopt;
  }
  if (!blank_or_comment(head.substr(leading_spaces(head) + key->second))) {
    why = "written on one line (flow style)";
    return std::nullopt;
  }
  std::vector<Child> children;
  std::size_t indent = 0;
  for (std::size_t i = header + 1; i < end; ++i) {
    if (blank_or_comment(lines[i])) continue;
    const std::size_t spaces = leading_spaces(lines[i]);
    if (indent == 0) {
      if (spaces <= leading_spaces(head)) break;
      indent = spaces;
    }
    if (spaces < indent) {
      why = "a line indented less than its keys";
      return std::nullopt;
    }
    if (spaces > indent) continue;
    const auto child = line_key(lines[i].substr(spaces));
    if (!child) {
      why = "a line at its keys' column that is not `key:`";
      return std::nullopt;
    }
    if (!children.empty()) children.back().last = i;
    children.push_back({child->first, i, end});
  }
  return children;
}

std::string at(const TextBlock& block, std::size_t line) { return block.file + ":" + std::to_string(block.first_line + static_cast<int>(line)); }

void add_names(const YAML::Node& ref, const TextBlock& block, const std::string& path, std::set<std::string>& names,
               std::vector<std::string>& problems) {
  if (!ref.IsDefined() || !ref.IsScalar()) return;
  const std::string& name = ref.Scalar();
  if (name.find("${") != std::string::npos) {
    problems.push_back(at(block, ref.Mark().line >= 0 ? static_cast<std::size_t>(ref.Mark().line) : 0) + ": " +
                       path + ": a provider named through ${…} cannot be scoped by the control plane (which " +
                       "providers a node may hold): name the provider itself");
    return;
  }
  names.insert(name);
}

std::optional<YAML::Node> parsed(const TextBlock& block) {
  try {
    return YAML::Load(block.text)[block.key];
  } catch (const YAML::Exception&) {
    return std::nullopt;  // the node's own check reports it, with its line
  }
}

}  // namespace

std::optional<std::set<std::string>> referenced_providers(const TextBlock* routes, const TextBlock* models,
                                                          std::vector<std::string>& problems) {
  std::set<std::string> names;
  const std::size_t before = problems.size();
  if (routes != nullptr) {
    if (const auto list = parsed(*routes); list && list->IsDefined() && list->IsSequence()) {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const YAML::Node route = (*list)[i];
        if (!route.IsDefined() || !route.IsMap()) continue;
        const std::string path = "routes[" + std::to_string(i) + "]";
        add_names(route["provider"], *routes, path + ".provider", names, problems);
        const YAML::Node fallback = route["fallback"];
        if (!fallback.IsDefined() || !fallback.IsSequence()) continue;
        for (std::size_t f = 0; f < fallback.size(); ++f)
          if (fallback[f].IsMap())
            add_names(fallback[f]["provider"], *routes, path + ".fallback[" + std::to_string(f) + "].provider", names,
                      problems);
      }
    }
  }
  if (models != nullptr) {
    if (const auto section = parsed(*models)) {
      const bool as_map = section->IsDefined() && section->IsMap();
      const YAML::Node rules = as_map ? (*section)["rules"] : *section;
      if (rules.IsDefined() && rules.IsSequence()) {
        for (std::size_t i = 0; i < rules.size(); ++i)
          if (rules[i].IsMap())
            add_names(rules[i]["provider"], *models,
                      std::string(as_map ? "models.rules[" : "models[") + std::to_string(i) + "].provider", names,
                      problems);
      }
    }
  }
  if (problems.size() != before) return std::nullopt;
  return names;
}

std::optional<std::vector<KeptLines>> keep_children(const TextBlock& block, const std::vector<std::string>& path,
                                                     const std::set<std::string>& keep,
                                                     std::vector<std::string>& problems) {
  const auto lines = split_lines(block.text);
  const std::vector<KeptLines> whole{{0, lines.size()}};
  // What the parser says the mapping holds: the cut must find exactly these keys.
  const auto root = parsed(block);
  if (!root) return whole;
  YAML::Node mapping = *root;
  for (const auto& key : path) {
    if (!mapping.IsDefined() || !mapping.IsMap()) return whole;
    mapping.reset(mapping[key]);
  }
  if (!mapping.IsDefined() || !mapping.IsMap()) return whole;  // absent, or not a mapping: the node's check says so
  std::set<std::string> parsed_keys;
  for (const auto& entry : mapping) {
    if (!entry.first.IsScalar()) parsed_keys.insert("?");
    else parsed_keys.insert(entry.first.Scalar());
  }
  std::string key_path = block.key;
  for (const auto& key : path) key_path += "." + key;
  std::size_t header = 0, end = lines.size();
  std::string why;
  for (const auto& key : path) {
    const auto children = children_of(lines, header, end, why);
    if (!children) break;
    const Child* found = nullptr;
    for (const auto& c : *children)
      if (c.key == key) found = &c;
    if (found == nullptr) {
      why = "its key `" + key + ":` not found on a line of its own";
      break;
    }
    header = found->first;
    end = found->last;
  }
  std::optional<std::vector<Child>> children;
  if (why.empty()) children = children_of(lines, header, end, why);
  if (children) {
    std::set<std::string> cut_keys;
    for (const auto& c : *children) cut_keys.insert(c.key);
    if (cut_keys != parsed_keys || cut_keys.size() != children->size()) {
      why = "its keys could not be told apart line by line";
      children.reset();
    }
  }
  if (!children) {
    problems.push_back(at(block, header) + ": " + key_path + ": must be a block mapping, one `name:` per line at " +
                       "the same column (" + why + "), so that each node can be given only the providers it uses");
    return std::nullopt;
  }
  std::vector<bool> dropped(lines.size(), false);
  bool any_kept = false;
  for (const auto& c : *children) {
    if (keep.count(c.key)) {
      any_kept = true;
      continue;
    }
    for (std::size_t i = c.first; i < c.last; ++i) dropped[i] = true;
  }
  if (!any_kept && !path.empty()) {
    // The whole nested mapping goes, with its `key:` line and the comments after its last child.
    for (std::size_t i = header; i < end; ++i) dropped[i] = true;
  }
  std::vector<KeptLines> kept;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (dropped[i]) continue;
    if (!kept.empty() && kept.back().first + kept.back().count == i) ++kept.back().count;
    else kept.push_back({i, 1});
  }
  return kept;
}

}  // namespace tollway::control
