// ModelEncodingTable: which encoding a model name uses (gpt-4o/4.1/4.5/o-series/gpt-5 -> o200k_base,
// gpt-4/gpt-3.5 -> cl100k_base), as ordered glob rules with '*' wildcards; overridable from configuration.
// Never loads rank files and never guesses silently: unknown models get the explicit fallback.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokens/encoding.h"

namespace tollway::tokens {

class ModelEncodingTable {
 public:
  // The built-in rules and fallback o200k_base.
  ModelEncodingTable();
  ModelEncodingTable(std::vector<std::pair<std::string, EncodingName>> rules, EncodingName fallback);

  // Adds a rule that wins over every existing one (configuration overrides).
  void prepend(std::string glob, EncodingName encoding);

  // The first rule matching model; "ft:" and "provider/" prefixes are ignored. Fallback when none matches.
  EncodingName encoding_for(std::string_view model) const;

  static bool glob_match(std::string_view glob, std::string_view text);

 private:
  std::vector<std::pair<std::string, EncodingName>> rules_;
  EncodingName fallback_;
};

}  // namespace tollway::tokens
