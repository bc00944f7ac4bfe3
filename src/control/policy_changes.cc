#include "control/policy_changes.h"

#include "control/text_blocks.h"

namespace tollway::control {
namespace {

// Each top-level key's text; empty when the file cannot be cut into blocks.
std::map<std::string, std::string> key_texts(const std::string& path, const std::string& text) {
  const auto lines = split_lines(text);
  std::vector<BlockProblem> problems;
  auto blocks = cut_blocks(lines, 0, lines.size(), 0, path, problems);
  std::map<std::string, std::string> keys;
  if (!problems.empty()) return keys;
  for (auto& b : blocks) keys.emplace(b.key, std::move(b.text));
  return keys;
}

}  // namespace

std::vector<FileChange> policy_changes(const std::map<std::string, std::string>& before,
                                       const std::map<std::string, std::string>& after) {
  std::vector<FileChange> changes;
  for (const auto& [path, text] : before)
    if (!after.count(path)) changes.push_back({path, "removed", {}});
  for (const auto& [path, text] : after) {
    const auto old = before.find(path);
    if (old == before.end()) {
      changes.push_back({path, "added", {}});
      continue;
    }
    if (old->second == text) continue;
    FileChange change{path, "changed", {}};
    const auto was = key_texts(path, old->second);
    const auto now = key_texts(path, text);
    for (const auto& [key, block] : was) {
      const auto it = now.find(key);
      if (it == now.end() || it->second != block) change.keys.push_back(key);
    }
    for (const auto& [key, block] : now)
      if (!was.count(key)) change.keys.push_back(key);
    changes.push_back(std::move(change));
  }
  return changes;
}

std::string describe_changes(const std::vector<FileChange>& changes) {
  std::string text;
  for (const auto& c : changes) {
    if (!text.empty()) text += "\n";
    text += c.change + " " + c.path;
    if (c.keys.empty()) continue;
    text += " (";
    for (std::size_t i = 0; i < c.keys.size(); ++i) text += (i ? ", " : "") + c.keys[i];
    text += ")";
  }
  return text;
}

}  // namespace tollway::control
