// SpiffeIdPattern: a SPIFFE ID written in policy to pick peers — either an exact ID or one whose path
// segments may be "*", each standing for exactly one segment ("spiffe://example.org/ns/prod/sa/*"). The trust
// domain is always exact. Parsed with the SPIFFE ID rules of tls/spiffe_id.h (a "*" segment aside), so a
// pattern that can match no valid ID is refused when the policy is read. It never matches an ID with a
// different number of segments and never normalises the text it is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls/spiffe_id.h"

namespace tollway::tls {

class SpiffeIdPattern {
 public:
  // The pattern, or nullopt with `error` saying why (the SPIFFE ID rule it breaks).
  static std::optional<SpiffeIdPattern> parse(std::string_view text, std::string* error = nullptr);

  bool matches(const SpiffeId& id) const;
  bool exact() const { return !has_wildcard_; }
  bool has_path() const { return !segments_.empty(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::string trust_domain_;
  std::vector<std::string> segments_;  // "*" = any one segment
  bool has_wildcard_ = false;
};

}  // namespace tollway::tls
