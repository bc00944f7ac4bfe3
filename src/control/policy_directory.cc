#include "control/policy_directory.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "control/rollout/rollout_spec.h"
#include "tls/spiffe_id.h"

namespace tollway::control {
namespace {

constexpr const char* kNodesFile = "nodes.yaml";

// Collects "file:line: key.path: problem" lines.
class Problems {
 public:
  explicit Problems(std::vector<std::string>& out) : out_(out) {}
  void add(const std::string& file, int line, const std::string& key_path, const std::string& message) {
    std::string e = file;
    if (line > 0) e += ":" + std::to_string(line);
    e += ": ";
    if (!key_path.empty()) e += key_path + ": ";
    out_.push_back(e + message);
  }
  void add(const std::string& file, const YAML::Node& at, const std::string& key_path, const std::string& message) {
    add(file, at.IsDefined() && at.Mark().line >= 0 ? at.Mark().line + 1 : 0, key_path, message);
  }

 private:
  std::vector<std::string>& out_;
};

// YAML syntax of a whole file, as the gateway's loader would report it.
std::optional<YAML::Node> parse_yaml(const std::string& file, const std::string& text, Problems& problems) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    problems.add(file, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
}

// A mapping key as text, or nullopt (and a problem) when it is not a plain scalar (`? [a, b]: 1` is YAML, no key here).
std::optional<std::string> plain_key(const std::string& file, const YAML::Node& key, const std::string& path,
                                     Problems& problems) {
  if (key.IsScalar()) return key.Scalar();
  problems.add(file, key, path, "a key must be a plain string");
  return std::nullopt;
}

bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

// A mapping of label names to string values.
std::optional<std::map<std::string, std::string>> read_labels(const std::string& file, const YAML::Node& node,
                                                              const std::string& path, Problems& problems) {
  if (!node.IsMap()) {
    problems.add(file, node, path, "must be a mapping of label names to values, e.g. {role: gateway, zone: a}");
    return std::nullopt;
  }
  std::map<std::string, std::string> labels;
  bool ok = true;
  for (const auto& entry : node) {
    const auto key = plain_key(file, entry.first, path, problems);
    if (!key) {
      ok = false;
      continue;
    }
    const std::string& name = *key;
    if (!valid_name(name)) {
      problems.add(file, entry.first, path, "\"" + name + "\" is not a label name (letters, digits, - _ .)");
      ok = false;
    } else if (!entry.second.IsScalar()) {
      problems.add(file, entry.second, path + "." + name, "must be a single value");
      ok = false;
    } else {
      labels[name] = entry.second.Scalar();
    }
  }
  if (!ok) return std::nullopt;
  return labels;
}

void check_keys(const std::string& file, const YAML::Node& map, const std::string& path,
                const std::set<std::string>& allowed, Problems& problems) {
  for (const auto& entry : map) {
    const auto text = plain_key(file, entry.first, path, problems);
    if (!text) continue;
    const std::string& key = *text;
    if (allowed.count(key)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    problems.add(file, entry.first, path.empty() ? key : path + "." + key, "unknown key (allowed: " + list + ")");
  }
}

void read_nodes(const std::string& file, const std::string& text, PolicyDirectory& out, Problems& problems) {
  auto root = parse_yaml(file, text, problems);
  if (!root) return;
  if (!root->IsMap()) {
    problems.add(file, 1, "", "must be a mapping with the key `nodes:`");
    return;
  }
  check_keys(file, *root, "", {"nodes"}, problems);
  const YAML::Node nodes = (*root)["nodes"];
  if (!nodes.IsDefined() || nodes.IsNull()) return;
  if (!nodes.IsMap()) {
    problems.add(file, nodes, "nodes", "must be a mapping of node IDs to {role, labels, token_sha256, spiffe_id}");
    return;
  }
  for (const auto& entry : nodes) {
    const auto id = plain_key(file, entry.first, "nodes", problems);
    if (!id) continue;
    DeclaredNode node;
    node.id = *id;
    node.file = file;
    node.line = entry.first.Mark().line + 1;
    const std::string path = "nodes." + node.id;
    if (!valid_name(node.id)) {
      problems.add(file, entry.first, path, "a node ID is letters, digits, - _ . (at most 128)");
      continue;
    }
    const YAML::Node n = entry.second;
    if (!n.IsMap()) {
      problems.add(file, n, path, "must be a mapping with role, labels, token_sha256 and spiffe_id");
      continue;
    }
    check_keys(file, n, path, {"role", "labels", "token_sha256", "spiffe_id"}, problems);
    if (const YAML::Node role = n["role"]; role.IsDefined()) {
      const std::string name = role.IsScalar() ? role.Scalar() : "";
      if (name == "sidecar") node.role = NodeRole::Sidecar;
      else if (name != "gateway")
        problems.add(file, role, path + ".role", "\"" + name + "\" is not a role (allowed: gateway, sidecar)");
    }
    if (n["labels"].IsDefined()) {
      if (auto labels = read_labels(file, n["labels"], path + ".labels", problems)) node.labels = *labels;
    }
    const YAML::Node spiffe_id = n["spiffe_id"];
    if (spiffe_id.IsDefined()) {
      std::string why;
      const auto id = spiffe_id.IsScalar() ? tls::SpiffeId::parse(spiffe_id.Scalar(), &why) : std::nullopt;
      if (!id) {
        problems.add(file, spiffe_id, path + ".spiffe_id",
                     "must be the SPIFFE ID of the node's certificate (spiffe://TD/ns/NS/sa/NAME)" +
                         (why.empty() ? std::string() : ": " + why));
        continue;
      }
      node.spiffe_id = id->text();
    }
    const YAML::Node token = n["token_sha256"];
    std::string hex = token.IsDefined() && token.IsScalar() ? token.Scalar() : "";
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return std::tolower(c); });
    const bool token_valid = hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!token_valid && (token.IsDefined() || node.spiffe_id.empty())) {
      problems.add(file, token.IsDefined() ? token.Mark().line + 1 : node.line, path + ".token_sha256",
                   node.spiffe_id.empty()
                       ? "required without spiffe_id: the sha256 (64 hex digits) of the node's bootstrap token, e.g. "
                         "from `printf %s TOKEN | sha256sum`"
                       : "the sha256 (64 hex digits) of the node's bootstrap token, e.g. from "
                         "`printf %s TOKEN | sha256sum`");
      continue;
    }
    if (token_valid) node.token_sha256 = hex;
    out.nodes.push_back(std::move(node));
  }
  std::sort(out.nodes.begin(), out.nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  // One certificate acts as one node: a SPIFFE ID declared for two nodes is an error at the second.
  std::map<std::string, const DeclaredNode*> by_identity;
  for (const auto& node : out.nodes) {
    if (node.spiffe_id.empty()) continue;
    const auto [first, inserted] = by_identity.emplace(node.spiffe_id, &node);
    if (!inserted)
      problems.add(file, node.line, "nodes." + node.id + ".spiffe_id",
                   node.spiffe_id + " is already node " + first->second->id +
                       "'s identity: a certificate acts as one node only");
  }
}

// The lines [first, last) of the block of `key` in a file cut at column 0.
std::pair<std::size_t, std::size_t> block_lines(const std::vector<TextBlock>& blocks, std::size_t i,
                                                std::size_t line_count) {
  const std::size_t first = static_cast<std::size_t>(blocks[i].first_line);  // the line after `key:`
  const std::size_t last =
      i + 1 < blocks.size() ? static_cast<std::size_t>(blocks[i + 1].first_line - 1) : line_count;
  return {first, last};
}

void read_group(const std::string& file, const std::string& name, const std::string& text, PolicyDirectory& out,
                Problems& problems) {
  auto root = parse_yaml(file, text, problems);
  if (!root) return;
  const auto lines = split_lines(text);
  std::vector<BlockProblem> block_problems;
  const auto blocks = cut_blocks(lines, 0, lines.size(), 0, file, block_problems);
  for (const auto& p : block_problems) problems.add(file, p.line, "", p.message);
  if (!block_problems.empty()) return;
  if (!root->IsMap()) {
    problems.add(file, 1, "", "must be a mapping with `selector:` and `sections:`");
    return;
  }
  check_keys(file, *root, "", {"selector", "sections"}, problems);
  NodeGroup group;
  group.name = name;
  group.file = file;
  const YAML::Node selector = (*root)["selector"];
  if (!selector.IsDefined() || (selector.IsMap() && selector.size() == 0)) {
    problems.add(file, selector.IsDefined() ? selector : *root, "selector",
                 "required: the labels a node must have to be in this group, e.g. {role: gateway, zone: a}");
    return;
  }
  group.line = selector.Mark().line + 1;
  auto labels = read_labels(file, selector, "selector", problems);
  if (!labels) return;
  group.selector = *labels;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i].key != "sections") continue;
    const YAML::Node sections = (*root)["sections"];
    if (sections.IsNull()) break;
    const std::string_view head = lines[blocks[i].first_line - 1];
    const auto after_colon = head.substr(head.find(':') + 1);
    const auto rest = after_colon.find_first_not_of(' ');
    if (!sections.IsMap() || (rest != std::string_view::npos && after_colon[rest] != '#')) {
      problems.add(file, blocks[i].first_line, "sections",
                   "must be a block mapping of top-level gateway keys, one `key:` per line below `sections:`");
      return;
    }
    const auto [first, last] = block_lines(blocks, i, lines.size());
    std::size_t indent = 0;
    for (std::size_t l = first; l < last && indent == 0; ++l) {
      const auto p = lines[l].find_first_not_of(' ');
      if (p != std::string_view::npos && lines[l][p] != '#') indent = p;
    }
    group.sections = cut_blocks(lines, first, last, indent, file, block_problems);
    for (const auto& p : block_problems) problems.add(file, p.line, "sections", p.message);
  }
  out.groups.push_back(std::move(group));
}

// The top-level keys of a shared file, each defined in one file of its set (`key_file`: key -> file:line).
void read_shared(const std::string& file, const std::string& text, std::map<std::string, std::string>& key_file,
                 std::vector<TextBlock>& out, Problems& problems) {
  if (!parse_yaml(file, text, problems)) return;
  const auto lines = split_lines(text);
  std::vector<BlockProblem> block_problems;
  auto blocks = cut_blocks(lines, 0, lines.size(), 0, file, block_problems);
  for (const auto& p : block_problems) problems.add(file, p.line, "", p.message);
  for (auto& b : blocks) {
    const std::string here = file + ":" + std::to_string(b.first_line);
    auto [it, inserted] = key_file.emplace(b.key, here);
    if (!inserted) {
      problems.add(file, b.first_line, b.key, "also defined at " + it->second + ": a top-level key belongs to one file");
      continue;
    }
    out.push_back(std::move(b));
  }
}

}  // namespace

std::string_view role_name(NodeRole role) { return role == NodeRole::Sidecar ? "sidecar" : "gateway"; }

bool NodeGroup::selects(const DeclaredNode& node) const {
  for (const auto& [label, value] : selector) {
    const auto it = node.labels.find(label);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

PolicyLoad load_policy(const PolicyFiles& files) {
  PolicyLoad result;
  Problems problems(result.errors);
  PolicyDirectory policy;
  policy.dir = files.root;
  bool have_nodes = false;
  std::map<std::string, std::string> key_file;          // gateway-shared key -> file:line of its first definition
  std::map<std::string, std::string> sidecar_key_file;  // the same for sidecars/
  for (const auto& [path, text] : files.files) {
    const std::string file = files.name_of(path);
    if (path.starts_with(kSidecarsDir)) {
      read_shared(file, text, sidecar_key_file, policy.sidecar_shared, problems);
      continue;
    }
    if (path.find('/') != std::string::npos) continue;
    if (path == rollout::kRolloutFile) continue;  // how versions roll out, not a section (policy_check reads it)
    if (path == kNodesFile) {
      have_nodes = true;
      read_nodes(file, text, policy, problems);
      continue;
    }
    read_shared(file, text, key_file, policy.shared, problems);
  }
  if (!have_nodes) problems.add(files.name_of(kNodesFile), 0, "", "missing: the declared nodes");
  for (const auto& [path, text] : files.files) {
    if (!path.starts_with("groups/")) continue;
    const std::string name = path.substr(7, path.size() - 7 - 5);
    read_group(files.name_of(path), name, text, policy, problems);
  }
  // References: every group selects a node, of one role; no node is in two groups.
  for (const auto& group : policy.groups) {
    bool any = false;
    std::set<NodeRole> roles;
    for (const auto& node : policy.nodes) {
      if (!group.selects(node)) continue;
      if (roles.insert(node.role).second && roles.size() == 2)
        problems.add(group.file, group.line, "selector",
                     "selects gateway and sidecar nodes: a group's sections replace one role's shared sections");
      any = true;
      auto [it, inserted] = policy.group_of.emplace(node.id, group.name);
      if (!inserted)
        problems.add(node.file, node.line, "nodes." + node.id,
                     "selected by two groups, \"" + it->second + "\" and \"" + group.name +
                         "\": a node belongs to one group at most");
    }
    if (!any)
      problems.add(group.file, group.line, "selector", "matches none of the nodes declared in nodes.yaml");
  }
  if (have_nodes && policy.nodes.empty() && result.errors.empty())
    result.warnings.push_back(files.name_of(kNodesFile) + ": no nodes declared: nothing to publish");
  if (!result.errors.empty()) return result;
  policy.content_hash = files.content_hash();
  result.policy = std::move(policy);
  return result;
}

PolicyLoad load_policy_directory(const std::string& dir) {
  std::vector<std::string> errors;
  PolicyFiles files = read_policy_directory(dir, errors);
  if (!errors.empty()) {
    PolicyLoad result;
    result.errors = std::move(errors);
    return result;
  }
  return load_policy(files);
}

}  // namespace tollway::control
#include "tls/spiffe_id.h"
