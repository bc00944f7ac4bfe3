#include "control/text_blocks.h"

#include <set>

namespace tollway::control {

bool blank_or_comment(std::string_view line) {
  const auto p = line.find_first_not_of(' ');
  return p == std::string_view::npos || line[p] == '#';
}

std::size_t leading_spaces(std::string_view line) {
  const auto p = line.find_first_not_of(' ');
  return p == std::string_view::npos ? line.size() : p;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

namespace {

// The key of `key:` or `key: value` (after the indentation), or "" when the line is not one.
std::string_view plain_key(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && key_char(line[n])) ++n;
  if (n == 0 || n >= line.size() || line[n] != ':') return {};
  if (n + 1 < line.size() && line[n + 1] != ' ') return {};
  return line.substr(0, n);
}

}  // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

std::vector<TextBlock> cut_blocks(const std::vector<std::string_view>& lines, std::size_t first, std::size_t last,
                                  std::size_t indent, const std::string& file, std::vector<BlockProblem>& problems) {
  std::vector<TextBlock> blocks;
  std::set<std::string, std::less<>> seen;
  bool in_block = false;
  for (std::size_t i = first; i < last; ++i) {
    const std::string_view line = lines[i];
    const int number = static_cast<int>(i) + 1;
    if (blank_or_comment(line)) {
      if (in_block) blocks.back().text.append(line.size() > indent ? line.substr(indent) : "").push_back('\n');
      continue;
    }
    const std::size_t spaces = leading_spaces(line);
    if (spaces < indent) {
      problems.push_back({number, "indented less than the keys around it"});
      in_block = false;
      continue;
    }
    const std::string_view body = line.substr(indent);
    if (spaces > indent) {
      if (in_block) {
        blocks.back().text.append(body).push_back('\n');
      } else {
        problems.push_back({number, "indented more than a key, but no key comes before it"});
      }
      continue;
    }
    if (body.starts_with("---") || body.starts_with("...")) {
      problems.push_back({number, "several YAML documents in one file are not supported: one mapping per file"});
      in_block = false;
      continue;
    }
    if (body.starts_with("{") || body.starts_with("[")) {
      problems.push_back({number, "flow style (`{ … }` or `[ … ]`) is not supported for the keys of a policy "
                                  "file: write one `key:` per line"});
      in_block = false;
      continue;
    }
    const std::string_view key = plain_key(body);
    if (key.empty()) {
      problems.push_back({number, "expected `key:` (a plain key at this column, then a colon)"});
      in_block = false;
      continue;
    }
    if (!seen.insert(std::string(key)).second) {
      problems.push_back({number, "\"" + std::string(key) + "\" is given twice in this file"});
      in_block = false;
      continue;
    }
    TextBlock block{std::string(key), file, number, std::string(body)};
    block.text.push_back('\n');
    blocks.push_back(std::move(block));
    in_block = true;
  }
  // Trailing blank and comment lines belong to no key.
  for (auto& b : blocks) {
    while (true) {
      const auto end = b.text.size() - 1;  // the final '\n'
      const auto start = b.text.rfind('\n', end - 1);
      const std::string_view last_line =
          std::string_view(b.text).substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
      if (start == std::string::npos || !blank_or_comment(last_line)) break;
      b.text.resize(start + 1);
    }
  }
  return blocks;
}

}  // namespace tollway::control
