#include "control/node_document.h"

#include <charconv>
#include <set>

#include "config/loader.h"

namespace tollway::control {
namespace {

int count_lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace

NodeDocument build_node_document(const PolicyDirectory& policy, const DeclaredNode& node) {
  NodeDocument doc;
  doc.node = node.id;
  const NodeGroup* group = nullptr;
  if (const auto it = policy.group_of.find(node.id); it != policy.group_of.end()) {
    doc.group = it->second;
    for (const auto& g : policy.groups)
      if (g.name == it->second) group = &g;
  }
  doc.bytes = std::string(config::kControlDocumentHeader) + " node " + node.id +
              (group ? ", group " + group->name : std::string()) + ", policy " + policy.content_hash.substr(0, 12) + "\n";
  int line = 2;
  const auto append = [&](const TextBlock& block) {
    const int n = count_lines(block.text);
    doc.lines.push_back({line, n, block.file, block.first_line});
    doc.bytes += block.text;
    line += n;
  };
  std::set<std::string> replaced;
  for (const auto& shared : policy.shared_for(node.role)) {
    const TextBlock* chosen = &shared;
    if (group) {
      for (const auto& s : group->sections)
        if (s.key == shared.key) chosen = &s;
    }
    if (chosen != &shared) replaced.insert(shared.key);
    append(*chosen);
  }
  if (group) {
    for (const auto& s : group->sections)
      if (!replaced.count(s.key)) append(s);
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
