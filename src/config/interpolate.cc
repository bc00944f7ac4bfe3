#include "config/interpolate.h"

namespace tollway::config {
namespace {

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> interpolate_env(std::string_view text, const EnvLookup& env, std::string& error) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out.push_back(text[i++]);
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string_view::npos) {
      error = "unclosed \"${\" (write ${env:NAME}, or $${ for a literal)";
      return std::nullopt;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    if (inner.substr(0, 4) != "env:") {
      error = "unknown substitution \"${" + std::string(inner) + "}\" (allowed: ${env:NAME}, ${env:NAME:-default})";
      return std::nullopt;
    }
    inner.remove_prefix(4);
    std::optional<std::string_view> fallback;
    if (const auto dash = inner.find(":-"); dash != std::string_view::npos) {
      fallback = inner.substr(dash + 2);
      inner = inner.substr(0, dash);
    }
    if (!is_env_name(inner)) {
      error = "\"" + std::string(inner) + "\" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
      return std::nullopt;
    }
    const std::string name(inner);
    if (auto value = env(name)) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    } else {
      error = "environment variable " + name + " is not set (use ${env:" + name +
              ":-default} to allow it to be unset)";
      return std::nullopt;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace tollway::config
