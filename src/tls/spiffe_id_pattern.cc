#include "tls/spiffe_id_pattern.h"

namespace tollway::tls {
namespace {

// The segments of a valid path ("" = none).
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const std::size_t end = path.find('/');
    out.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

}  // namespace

std::optional<SpiffeIdPattern> SpiffeIdPattern::parse(std::string_view text, std::string* error) {
  // Checked as the ID it would be with every "*" path segment replaced by a valid one (a "*" in the trust
  // domain stays, and is refused as the invalid character it is there).
  std::string as_id(text);
  bool wildcard = false;
  const std::size_t path_start = as_id.size() > 9 ? as_id.find('/', 9) : std::string::npos;
  for (std::size_t i = path_start; i != std::string::npos && i + 1 < as_id.size(); ++i) {
    if (as_id[i] != '/' || as_id[i + 1] != '*') continue;
    if (i + 2 == as_id.size() || as_id[i + 2] == '/') {
      as_id[i + 1] = 'x';
      wildcard = true;
    }
  }
  const auto id = SpiffeId::parse(as_id, error);
  if (!id) {
    if (error != nullptr && error->starts_with("path") && error->find("'*'") != std::string::npos)
      *error += " (\"*\" stands for a whole path segment only)";
    return std::nullopt;
  }
  SpiffeIdPattern pattern;
  pattern.text_ = std::string(text);
  pattern.trust_domain_ = std::string(id->trust_domain());
  for (std::string_view segment : split_path(std::string_view(text).substr(9 + pattern.trust_domain_.size())))
    pattern.segments_.emplace_back(segment);
  pattern.has_wildcard_ = wildcard;
  return pattern;
}

bool SpiffeIdPattern::matches(const SpiffeId& id) const {
  if (!has_wildcard_) return id.text() == text_;
  if (id.trust_domain() != trust_domain_) return false;
  std::string_view path = id.path();
  for (const std::string& segment : segments_) {
    if (path.empty()) return false;
    path.remove_prefix(1);
    const std::size_t end = path.find('/');
    if (segment != "*" && segment != path.substr(0, end)) return false;
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return path.empty();
}

}  // namespace tollway::tls
