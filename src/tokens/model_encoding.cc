#include "tokens/model_encoding.h"

namespace tollway::tokens {

ModelEncodingTable::ModelEncodingTable()
    : ModelEncodingTable(
          {
              {"gpt-4o*", EncodingName::O200kBase},     {"chatgpt-4o*", EncodingName::O200kBase},
              {"gpt-4.1*", EncodingName::O200kBase},    {"gpt-4.5*", EncodingName::O200kBase},
              {"gpt-5*", EncodingName::O200kBase},      {"o1*", EncodingName::O200kBase},
              {"o3*", EncodingName::O200kBase},         {"o4*", EncodingName::O200kBase},
              {"gpt-oss*", EncodingName::O200kBase},    {"gpt-4*", EncodingName::Cl100kBase},
              {"gpt-3.5*", EncodingName::Cl100kBase},   {"gpt-35*", EncodingName::Cl100kBase},
              {"text-embedding-3*", EncodingName::Cl100kBase}, {"text-embedding-ada-002*", EncodingName::Cl100kBase},
              {"davinci-002*", EncodingName::Cl100kBase}, {"babbage-002*", EncodingName::Cl100kBase},
          },
          EncodingName::O200kBase) {}

ModelEncodingTable::ModelEncodingTable(std::vector<std::pair<std::string, EncodingName>> rules, EncodingName fallback)
    : rules_(std::move(rules)), fallback_(fallback) {}

void ModelEncodingTable::prepend(std::string glob, EncodingName encoding) {
  rules_.insert(rules_.begin(), {std::move(glob), encoding});
}

bool ModelEncodingTable::glob_match(std::string_view glob, std::string_view text) {
  // Iterative '*' matching with one backtrack point (linear for practical patterns).
  std::size_t g = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') { star = g++; mark = t; }
    else if (g < glob.size() && glob[g] == text[t]) { ++g; ++t; }
    else if (star != std::string_view::npos) { g = star + 1; t = ++mark; }
    else return false;
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

EncodingName ModelEncodingTable::encoding_for(std::string_view model) const {
  if (model.substr(0, 3) == "ft:") model.remove_prefix(3);
  if (const auto slash = model.rfind('/'); slash != std::string_view::npos) model.remove_prefix(slash + 1);
  for (const auto& [glob, encoding] : rules_)
    if (glob_match(glob, model)) return encoding;
  return fallback_;
}

}  // namespace tollway::tokens
