#include "control/node_document.h"

#include <charconv>
#include <set>

#include "config/loader.h"
#include "control/node_scope.h"

namespace tollway::control {
namespace {

std::string header_line(const std::string& node, const std::string& group) {
  return std::string(config::kControlDocumentHeader) + " node " + node + (group.empty() ? "" : ", group " + group) + "\n";
}

}  // namespace

NodeDocument document_for(const NodeDocument& same, const DeclaredNode& node) {
  NodeDocument doc = same;
  doc.node = node.id;
  doc.bytes = header_line(node.id, same.group) + same.bytes.substr(same.bytes.find('\n') + 1);
  doc.version = config::document_version(doc.bytes);
  return doc;
}

NodeDocument build_node_document(const PolicyDirectory& policy, const DeclaredNode& node) {
  NodeDocument doc;
  doc.node = node.id;
  const NodeGroup* group = nullptr;
  if (const auto it = policy.group_of.find(node.id); it != policy.group_of.end()) {
    doc.group = it->second;
    for (const auto& g : policy.groups)
      if (g.name == it->second) group = &g;
  }
  // The node's sections: its role's shared ones with its group's replacements, then the group's own.
  std::vector<const TextBlock*> sections;
  std::set<std::string> replaced;
  for (const auto& shared : policy.shared_for(node.role)) {
    const TextBlock* chosen = &shared;
    if (group) {
      for (const auto& s : group->sections)
        if (s.key == shared.key) chosen = &s;
    }
    if (chosen != &shared) replaced.insert(shared.key);
    sections.push_back(chosen);
  }
  if (group) {
    for (const auto& s : group->sections)
      if (!replaced.count(s.key)) sections.push_back(&s);
  }
  const auto section = [&](std::string_view key) -> const TextBlock* {
    for (const TextBlock* s : sections)
      if (s->key == key) return s;
    return nullptr;
  };
  // A gateway keeps the providers its routes and models name, and their credentials (node_scope.h).
  std::optional<std::set<std::string>> providers;
  if (node.role == NodeRole::Gateway)
    providers = referenced_providers(section("routes"), section("models"), doc.scope_problems);

  doc.bytes = header_line(node.id, doc.group);
  int line = 2;
  const auto append = [&](const TextBlock& block, const std::vector<KeptLines>& kept) {
    const auto lines = split_lines(block.text);
    if (kept.size() == 1 && kept[0].first == 0 && kept[0].count == lines.size()) {  // whole: its bytes as written
      doc.lines.push_back({line, static_cast<int>(lines.size()), block.file, block.first_line});
      doc.bytes += block.text;
      line += static_cast<int>(lines.size());
      return;
    }
    for (const auto& run : kept) {
      doc.lines.push_back({line, static_cast<int>(run.count), block.file,
                           block.first_line + static_cast<int>(run.first)});
      for (std::size_t i = run.first; i < run.first + run.count; ++i) doc.bytes.append(lines[i]).push_back('\n');
      line += static_cast<int>(run.count);
    }
  };
  for (const TextBlock* block : sections) {
    std::optional<std::vector<KeptLines>> kept;
    if (providers && block->key == "providers") kept = keep_children(*block, {}, *providers, doc.scope_problems);
    else if (providers && block->key == "credentials")
      kept = keep_children(*block, {"providers"}, *providers, doc.scope_problems);
    else kept = std::vector<KeptLines>{{0, split_lines(block->text).size()}};
    if (kept) append(*block, *kept);
  }
  doc.version = config::document_version(doc.bytes);
  doc.content_version = config::content_version(doc.bytes);
  return doc;
}

std::string NodeDocument::translate(std::string_view origin, std::string_view error) const {
  if (!error.starts_with(origin) || error.size() <= origin.size() || error[origin.size()] != ':')
    return std::string(error);
  std::string_view rest = error.substr(origin.size() + 1);
  int number = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
  if (ec == std::errc() && end != rest.data() && end < rest.data() + rest.size() && *end == ':') {
    const std::string_view after = rest.substr(end - rest.data() + 1);
    for (const auto& l : lines) {
      if (number >= l.first && number < l.first + l.count)
        return l.file + ":" + std::to_string(l.source_first + (number - l.first)) + ":" + std::string(after);
    }
    return "node " + node + ":" + std::string(after);
  }
  return "node " + node + ":" + std::string(rest);
}

}  // namespace tollway::control
