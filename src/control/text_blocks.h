// TextBlocks: cuts a YAML mapping written in block style into the original text of each of its keys, with the
// line each block starts on, so that a node's document can be assembled from pieces of several policy files and
// a line of it traced back to its file. A key's block runs from its line to the next key at the same column.
// It never rewrites a value and never accepts what it cannot cut safely (flow style, several documents).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tollway::control {

// One key of the mapping and its text, dedented to column 0, ending in '\n'.
struct TextBlock {
  std::string key;
  std::string file;
  int first_line = 0;  // 1-based line of `key:` in `file`
  std::string text;
};

struct BlockProblem {
  int line = 0;
  std::string message;
};

// A line that is blank or a comment; the spaces a line starts with; a character a plain mapping key may hold.
bool blank_or_comment(std::string_view line);
std::size_t leading_spaces(std::string_view line);
bool key_char(char c);

// The lines of a text without their '\n' (a trailing '\r' is kept off too).
std::vector<std::string_view> split_lines(std::string_view text);

// Cuts lines [first, last) (0-based indexes into `lines`) of `file`, whose keys stand at `indent` spaces. Lines
// that are blank or comments between keys belong to the block before them; comments before the first key to
// none. Problems: a line at the keys' column that is not `key:`, flow style, `---` or `...` markers, a line
// indented less than the keys, a key given twice.
std::vector<TextBlock> cut_blocks(const std::vector<std::string_view>& lines, std::size_t first, std::size_t last,
                                  std::size_t indent, const std::string& file, std::vector<BlockProblem>& problems);

}  // namespace tollway::control
