// SpiffeId: a SPIFFE ID parsed strictly per the SPIFFE ID specification (standards/SPIFFE-ID.md): the
// "spiffe" scheme, a trust domain of [a-z0-9.-_] (at most 255 bytes), an optional path of non-empty segments of
// [a-zA-Z0-9.-_] that are neither "." nor "..", no trailing '/', no userinfo, port, query, fragment or
// percent-encoding, at most 2048 bytes in all. It is for deciding who a peer is, so it never repairs, lowercases
// or normalises its input: anything not exactly canonical is refused with the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tollway::tls {

class SpiffeId {
 public:
  static constexpr std::size_t kMaxLength = 2048;
  static constexpr std::size_t kMaxTrustDomainLength = 255;

  // The parsed ID, or nullopt with `error` saying why (e.g. "trust domain has an invalid character '%'").
  static std::optional<SpiffeId> parse(std::string_view text, std::string* error = nullptr);
  // A trust domain name alone ("example.org"), checked by the same rules; "" when valid, else the reason.
  static std::string check_trust_domain(std::string_view name);
  // A path ("/ns/prod/sa/web", or "" for none), checked by the same rules; "" when valid, else the reason.
  static std::string check_path(std::string_view path);

  const std::string& text() const { return text_; }  // the whole ID, as parsed
  std::string_view trust_domain() const { return std::string_view(text_).substr(9, path_start_ - 9); }
  std::string_view path() const { return std::string_view(text_).substr(path_start_); }  // "" or "/..."
  bool member_of(std::string_view trust_domain_name) const { return trust_domain() == trust_domain_name; }

  friend bool operator==(const SpiffeId& a, const SpiffeId& b) { return a.text_ == b.text_; }

 private:
  SpiffeId(std::string text, std::size_t path_start) : text_(std::move(text)), path_start_(path_start) {}
  std::string text_;
  std::size_t path_start_ = 0;
};

}  // namespace tollway::tls
