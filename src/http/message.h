// HTTP/1.1 message heads as views into the connection's read buffer (zero-copy): what the strict parser
// produces and the proxy reads. A head never owns bytes; it must not outlive the buffer it was parsed from.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tollway::http {

struct Header {
  std::string_view name;   // as received; compare case-insensitively
  std::string_view value;  // leading and trailing OWS removed
};

// How the body that follows a head is delimited (RFC 9112 section 6.3).
enum class BodyFraming {
  None,           // no body (no Content-Length / Transfer-Encoding, or a response that cannot have one)
  ContentLength,  // exactly content_length bytes
  Chunked,        // chunked transfer coding is the final coding
  UntilClose,     // responses only: the body ends when the connection closes
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // origin-form ("/v1/x?y"), asterisk-form for OPTIONS, authority-form for CONNECT
  // Set only on a forward proxy's listener (ParseLimits::proxy_forms): the HOST[:PORT] of an absolute-form target
  // (whose path and query are then `target`, "/" when it had none) or of CONNECT's authority-form. A Host header,
  // when present, names the same authority.
  std::string_view authority;
  int version_minor = 1;    // HTTP/1.<minor>; only 0 and 1 are accepted
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;  // valid when framing == ContentLength
  bool keep_alive = true;       // from version and Connection tokens
  bool expect_continue = false; // "Expect: 100-continue" was sent
  std::size_t head_size = 0;    // bytes of request line + headers + final CRLF

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> find(std::string_view name) const;
  // Path part of the target, without the query.
  std::string_view path() const;
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int version_minor = 1;
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;
  std::size_t head_size = 0;

  std::optional<std::string_view> find(std::string_view name) const;
};

// Case-insensitive ASCII comparison of strings of the same length.
bool iequals_same_size(const char* a, const char* b, std::size_t size);
// Case-insensitive ASCII comparison of header names and tokens. Inline: most comparisons on the request path
// fail on the length alone.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && iequals_same_size(a.data(), b.data(), a.size());
}

// The hop-by-hop headers of one message: those RFC 9110 section 7.6.1 names (Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization), plus any
// name listed in the message's Connection header values. Built once per message (the Connection values are
// split once), then asked about each header; it views `headers`, which must outlive it.
class HopByHop {
 public:
  explicit HopByHop(const std::vector<Header>& headers);
  bool contains(std::string_view name) const;

 private:
  static constexpr std::size_t kInlineNames = 8;
  std::array<std::string_view, kInlineNames> listed_{};
  std::size_t listed_count_ = 0;
  // Set when the Connection values list more names than fit inline: they are then looked up in the headers.
  const std::vector<Header>* overflow_headers_ = nullptr;
};

}  // namespace tollway::http
