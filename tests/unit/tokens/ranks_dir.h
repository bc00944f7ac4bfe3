// Test fixture: loads each encoding once from the repo's node_modules/gpt-tokenizer/data. Never used in src/.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>

#include "tokens/encoding.h"

namespace tollway::tokens::testing {

inline std::string ranks_dir() {
  const char* root = std::getenv("TOLLWAY_SOURCE_DIR");
  return std::string(root ? root : ".") + "/node_modules/gpt-tokenizer/data";
}

inline const Encoding& encoding(EncodingName name) {
  static std::shared_ptr<const Encoding> cache[4];
  auto& slot = cache[static_cast<int>(name)];
  if (!slot) slot = Encoding::load(name, ranks_dir());
  return *slot;
}

}  // namespace tollway::tokens::testing
