#include "http/parser.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "http/authority.h"
#include "http/char_class.h"

namespace tollway::http {

namespace {

constexpr std::size_t kReservedHeaders = 24;
constexpr uint64_t kMaxContentLength = static_cast<uint64_t>(INT64_MAX);  // 2^63 - 1

enum class MessageKind { Request, Response };

// Outcome of one parsing step. `OutOfInput` means the step reached the end of the bytes it may look at.
enum class StepResult { Ok, OutOfInput, Rejected };

bool is_whitespace(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_whitespace(std::string_view text) {
  while (!text.empty() && is_whitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_whitespace(text.back())) text.remove_suffix(1);
  return text;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Calls `visit(element)` for each comma-separated element with OWS trimmed (empty elements included).
// Stops early and returns false when `visit` returns false.
template <typename Visitor>
bool for_each_list_element(std::string_view list, Visitor&& visit) {
  for (;;) {
    const std::size_t comma = list.find(',');
    if (!visit(trim_whitespace(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

bool is_known_transfer_coding(std::string_view coding) {
  // RFC 9110 section 18.7 registry (without "chunked", which is handled separately, and "trailers", a TE-only
  // value). "identity" was removed by RFC 7230 and is rejected as unknown.
  return iequals(coding, "gzip") || iequals(coding, "deflate") || iequals(coding, "compress") ||
         iequals(coding, "x-gzip") || iequals(coding, "x-compress");
}

// What the framing-relevant header fields said, collected while the head is scanned.
struct FramingFields {
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool chunked_is_final = false;
  int host_count = 0;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool expect_continue = false;
};

// Single forward pass over a message head. Only the first `limit` bytes of the buffer are examined so that a
// peer cannot make the parser (or the caller's buffer) grow past ParseLimits::max_header_block.
class HeadScanner {
 public:
  HeadScanner(MessageKind kind, std::string_view buffer, const ParseLimits& limits, ParseError& error)
      : kind_(kind),
        data_(buffer.data()),
        buffer_size_(buffer.size()),
        end_(buffer.size() < limits.max_header_block ? buffer.size() : limits.max_header_block),
        limits_(limits),
        error_(error) {}

  StepResult scan_request_line(RequestHead& out);
  StepResult scan_status_line(ResponseHead& out);
  StepResult scan_header_fields(std::vector<Header>& headers, int version_minor);

  // Turns a step result into the public status, mapping "out of input" to Incomplete or to 431 when the
  // buffer already holds more than the head limit.
  ParseStatus finish(StepResult result) {
    if (result == StepResult::Ok) return ParseStatus::Complete;
    if (result == StepResult::Rejected) return ParseStatus::Error;
    if (buffer_size_ > end_) {
      reject(431, "header section exceeds the size limit");
      return ParseStatus::Error;
    }
    return ParseStatus::Incomplete;
  }

  std::size_t position() const { return pos_; }
  const FramingFields& framing() const { return framing_; }

  StepResult reject(int status, std::string_view message) {
    error_.status = kind_ == MessageKind::Response ? 502 : status;
    error_.message = message;
    return StepResult::Rejected;
  }

 private:
  unsigned char at(std::size_t i) const { return static_cast<unsigned char>(data_[i]); }
  // The start line ran out of bytes at `stop`: either it is longer than allowed or more input is needed.
  StepResult start_line_out_of_input(std::size_t stop) {
    if (stop >= line_start_ + limits_.max_request_line + 1) {
      return reject(414, kind_ == MessageKind::Request ? "request line exceeds the size limit"
                                                       : "status line exceeds the size limit");
    }
    return StepResult::OutOfInput;
  }
  StepResult scan_http_version(std::size_t line_end, int& version_minor);
  std::size_t skip_field_value_chars(std::size_t i) const;
  StepResult record_header(std::string_view name, std::string_view value, int version_minor);
  StepResult record_content_length(std::string_view value);
  StepResult record_transfer_encoding(std::string_view value, int version_minor);
  StepResult record_connection(std::string_view value);
  StepResult record_expect(std::string_view value);
  StepResult record_host(std::string_view value);
  // An origin-form path and query from the '/' at pos_ up to the byte after it (left at pos_).
  StepResult scan_origin_path(std::size_t line_end);
  // A forward proxy's absolute-form `http://AUTHORITY` prefix (pos_ is left at the path) or CONNECT's
  // authority-form (pos_ is left at the SP); sets out.authority.
  StepResult scan_proxy_target(std::size_t line_end, RequestHead& out);

  MessageKind kind_;
  const char* data_;
  std::size_t buffer_size_;
  std::size_t end_;  // bytes that may be examined: min(buffer size, max_header_block)
  const ParseLimits& limits_;
  ParseError& error_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  FramingFields framing_;
};

// "HTTP/" DIGIT "." DIGIT CRLF, starting at pos_. Only 1.0 and 1.1 are accepted; other well-formed versions
// are answered with 505.
StepResult HeadScanner::scan_http_version(std::size_t line_end, int& version_minor) {
  static constexpr std::string_view kPrefix = "HTTP/";
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (pos_ + i >= line_end) return start_line_out_of_input(pos_ + i);
    if (data_[pos_ + i] != kPrefix[i])
      return reject(400, "malformed HTTP version (expected HTTP/1.1 or HTTP/1.0)");
  }
  pos_ += kPrefix.size();
  for (std::size_t i = 0; i < 3; ++i) {
    if (pos_ + i >= line_end) return start_line_out_of_input(pos_ + i);
  }
  const unsigned char major = at(pos_);
  const unsigned char dot = at(pos_ + 1);
  const unsigned char minor = at(pos_ + 2);
  if (!is_digit(major) || dot != '.' || !is_digit(minor)) {
    return reject(400, "malformed HTTP version (expected HTTP/1.1 or HTTP/1.0)");
  }
  pos_ += 3;
  if (kind_ == MessageKind::Request) {
    if (pos_ >= line_end) return start_line_out_of_input(pos_);
    if (data_[pos_] != '\r') {
      if (data_[pos_] == '\n') return reject(400, "bare LF ends the request line (CRLF required)");
      if (data_[pos_] == ' ') return reject(400, "space after the HTTP version in the request line");
      return reject(400, "malformed HTTP version (expected HTTP/1.1 or HTTP/1.0)");
    }
    if (pos_ + 1 >= end_) return StepResult::OutOfInput;
    if (data_[pos_ + 1] != '\n') return reject(400, "bare CR in the request line");
  }
  if (major != '1' || minor > '1') {
    return reject(505, "HTTP version not supported (only HTTP/1.1 and HTTP/1.0)");
  }
  version_minor = minor - '0';
  return StepResult::Ok;
}

StepResult HeadScanner::scan_request_line(RequestHead& out) {
  // RFC 9112 section 2.2: ignore empty lines before the request line (they count towards head_size).
  for (;;) {
    if (pos_ >= end_) return StepResult::OutOfInput;
    if (data_[pos_] == '\n') return reject(400, "bare LF before the request line (CRLF required)");
    if (data_[pos_] != '\r') break;
    if (pos_ + 1 >= end_) return StepResult::OutOfInput;
    if (data_[pos_ + 1] != '\n') return reject(400, "bare CR before the request line");
    pos_ += 2;
  }
  line_start_ = pos_;
  // Content bytes of the line may be examined up to max_request_line + 1 (one past the limit proves
  // overflow).
  const std::size_t line_cap = line_start_ + limits_.max_request_line + 1;
  const std::size_t line_end = line_cap < end_ ? line_cap : end_;

  // method = token (case-sensitive; any token is accepted and the proxy decides what it supports)
  const std::size_t method_start = pos_;
  while (pos_ < line_end && is_tchar(at(pos_))) ++pos_;
  if (pos_ >= line_end) return start_line_out_of_input(pos_);
  if (pos_ == method_start) {
    if (data_[pos_] == ' ') return reject(400, "request line starts with whitespace");
    return reject(400, "invalid character in method (must be a token)");
  }
  if (data_[pos_] != ' ') return reject(400, "invalid character in method (must be a token)");
  out.method = std::string_view(data_ + method_start, pos_ - method_start);
  ++pos_;

  // request-target: origin-form, or asterisk-form for OPTIONS; on a forward proxy's listener also absolute-form
  // and CONNECT's authority-form
  if (pos_ >= line_end) return start_line_out_of_input(pos_);
  std::size_t target_start = pos_;
  const unsigned char first = at(pos_);
  if (limits_.proxy_forms && (out.method == "CONNECT" || first == 'h' || first == 'H')) {
    const StepResult proxy_target = scan_proxy_target(line_end, out);
    if (proxy_target != StepResult::Ok) return proxy_target;
    target_start = pos_;  // an absolute-form target's path starts here
  } else if (out.method == "CONNECT") {
    // CONNECT's only form is HOST:PORT (RFC 9112 3.2.3), which a reverse proxy does not take; read with an
    // origin-form target it would be a request no peer frames as tollway would.
    return reject(400, "CONNECT is only accepted on a forward proxy's listener");
  }
  if (!out.authority.empty()) {
    // CONNECT's authority-form ends at the SP; an absolute-form target may have a path
    if (out.method != "CONNECT" && data_[pos_] == '/') {
      const StepResult path = scan_origin_path(line_end);
      if (path != StepResult::Ok) return path;
    }
  } else if (first == '/') {
    const StepResult path = scan_origin_path(line_end);
    if (path != StepResult::Ok) return path;
  } else if (first == '*') {
    ++pos_;
    if (pos_ >= line_end) return start_line_out_of_input(pos_);
    if (data_[pos_] == ' ' && out.method != "OPTIONS") {
      return reject(400, "asterisk-form request target is only allowed for OPTIONS");
    }
  } else if (first == ' ') {
    return reject(400, "more than one space between method and request target");
  } else if (first == '\r' || first == '\n') {
    return reject(400, "request line has no request target");
  } else if (limits_.proxy_forms) {
    return reject(400, "request target must be origin-form or an absolute-form http:// URL");
  } else {
    return reject(400,
                  "request target must be origin-form (absolute-form and authority-form are not accepted)");
  }
  if (data_[pos_] != ' ') {
    const unsigned char c = at(pos_);
    if (c == '#') return reject(400, "fragment ('#') in request target");
    if (c == '\r' || c == '\n') return reject(400, "request line has no HTTP version");
    if (c == '\t') return reject(400, "HTAB in request line (single SP separators required)");
    if (c >= 0x80) return reject(400, "non-ASCII byte in request target (percent-encode it)");
    return reject(400, "invalid character in request target");
  }
  if (!out.authority.empty() && out.method == "CONNECT")
    out.target = out.authority;
  else if (!out.authority.empty() && pos_ == target_start)
    out.target = "/";  // http://host is http://host/
  else
    out.target = std::string_view(data_ + target_start, pos_ - target_start);
  ++pos_;
  if (pos_ >= line_end) return start_line_out_of_input(pos_);
  if (data_[pos_] == ' ') return reject(400, "more than one space between request target and HTTP version");

  const StepResult version = scan_http_version(line_end, out.version_minor);
  if (version != StepResult::Ok) return version;
  pos_ += 2;  // CRLF, checked by scan_http_version
  return StepResult::Ok;
}

StepResult HeadScanner::scan_status_line(ResponseHead& out) {
  line_start_ = 0;
  const std::size_t line_cap = limits_.max_request_line + 1;
  const std::size_t line_end = line_cap < end_ ? line_cap : end_;
  const StepResult version = scan_http_version(line_end, out.version_minor);
  if (version != StepResult::Ok) return version;
  // SP 3DIGIT
  for (std::size_t i = 0; i < 4; ++i) {
    if (pos_ + i >= line_end) return start_line_out_of_input(pos_ + i);
  }
  if (data_[pos_] != ' ') return reject(502, "status line: expected one space after the HTTP version");
  const unsigned char d0 = at(pos_ + 1), d1 = at(pos_ + 2), d2 = at(pos_ + 3);
  if (!is_digit(d0) || !is_digit(d1) || !is_digit(d2)) {
    return reject(502, "status line: status code must be three digits");
  }
  const int status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
  if (status < 100 || status > 599) return reject(502, "status line: status code outside 100-599");
  out.status = status;
  pos_ += 4;
  // [SP reason-phrase] CRLF; a missing SP before an empty reason is tolerated (it is not ambiguous).
  if (pos_ >= line_end) return start_line_out_of_input(pos_);
  std::size_t reason_start = pos_;
  if (data_[pos_] == ' ') {
    ++pos_;
    reason_start = pos_;
    while (pos_ < line_end && is_field_value_char(at(pos_))) ++pos_;
    if (pos_ >= line_end) return start_line_out_of_input(pos_);
  }
  if (data_[pos_] != '\r') {
    if (data_[pos_] == '\n') return reject(502, "bare LF ends the status line (CRLF required)");
    if (reason_start == pos_ && is_digit(at(pos_))) {
      return reject(502, "status line: status code must be three digits");
    }
    return reject(502, "status line: invalid character");
  }
  if (pos_ + 1 >= end_) return StepResult::OutOfInput;
  if (data_[pos_ + 1] != '\n') return reject(502, "bare CR in the status line");
  out.reason = std::string_view(data_ + reason_start, pos_ - reason_start);
  pos_ += 2;
  return StepResult::Ok;
}

// The first position from `i` on that is not a field-value byte (VCHAR, obs-text, SP, HTAB), or end_. Eight
// bytes at a time while a word has no control byte and no DEL (exact: a word with one goes to the byte loop,
// which decides; a word without one has only field-value bytes), then byte by byte.
std::size_t HeadScanner::skip_field_value_chars(std::size_t i) const {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (i + 8 <= end_) {
    uint64_t word;
    std::memcpy(&word, data_ + i, sizeof word);
    const uint64_t below_space = (word - 0x20 * kOnes) & ~word & kHigh;  // a byte < 0x20 (CR, HTAB, ...)
    const uint64_t del_bits = word ^ (0x7f * kOnes);
    const uint64_t del = (del_bits - kOnes) & ~del_bits & kHigh;  // a byte == 0x7f
    if ((below_space | del) != 0) break;
    i += 8;
  }
  while (i < end_ && is_field_value_char(at(i))) ++i;
  return i;
}

StepResult HeadScanner::scan_header_fields(std::vector<Header>& headers, int version_minor) {
  for (;;) {
    if (pos_ >= end_) return StepResult::OutOfInput;
    const unsigned char first = at(pos_);
    if (first == '\r') {
      if (pos_ + 1 >= end_) return StepResult::OutOfInput;
      if (data_[pos_ + 1] != '\n') return reject(400, "bare CR in header section");
      pos_ += 2;
      return StepResult::Ok;
    }
    if (first == '\n') return reject(400, "bare LF in header section (CRLF required)");
    if (first == ' ' || first == '\t') {
      if (headers.empty()) return reject(400, "whitespace before the first header field");
      return reject(400, "obsolete line folding (header line starts with whitespace)");
    }

    // field-name = token, immediately followed by ':'
    const std::size_t name_start = pos_;
    while (pos_ < end_ && is_tchar(at(pos_))) ++pos_;
    if (pos_ >= end_) return StepResult::OutOfInput;
    const unsigned char after_name = at(pos_);
    if (after_name != ':') {
      if (after_name == ' ' || after_name == '\t')
        return reject(400, "whitespace between header field name and colon");
      if (after_name == '\r' || after_name == '\n') return reject(400, "header line without a colon");
      return reject(400, "invalid character in header field name");
    }
    if (pos_ == name_start) return reject(400, "empty header field name");
    const std::string_view name(data_ + name_start, pos_ - name_start);
    ++pos_;

    // OWS field-value OWS CRLF
    while (pos_ < end_ && is_whitespace(data_[pos_])) ++pos_;
    const std::size_t value_start = pos_;
    pos_ = skip_field_value_chars(pos_);
    if (pos_ >= end_) return StepResult::OutOfInput;
    if (data_[pos_] != '\r') {
      if (data_[pos_] == '\n') return reject(400, "bare LF in header section (CRLF required)");
      return reject(400, "control character in header field value");
    }
    if (pos_ + 1 >= end_) return StepResult::OutOfInput;
    if (data_[pos_ + 1] != '\n') return reject(400, "bare CR in header field value");
    std::size_t value_end = pos_;
    while (value_end > value_start && is_whitespace(data_[value_end - 1])) --value_end;
    pos_ += 2;

    if (headers.size() >= limits_.max_headers) return reject(431, "too many header fields");
    const std::string_view value(data_ + value_start, value_end - value_start);
    headers.push_back(Header{name, value});
    const StepResult recorded = record_header(name, value, version_minor);
    if (recorded != StepResult::Ok) return recorded;
  }
}

StepResult HeadScanner::record_header(std::string_view name, std::string_view value, int version_minor) {
  // Dispatch on length first: most fields are none of these and cost one switch.
  switch (name.size()) {
    case 4:
      if (kind_ == MessageKind::Request && iequals(name, "Host")) return record_host(value);
      break;
    case 6:
      if (kind_ == MessageKind::Request && iequals(name, "Expect")) return record_expect(value);
      break;
    case 10:
      if (iequals(name, "Connection")) return record_connection(value);
      break;
    case 14:
      if (iequals(name, "Content-Length")) return record_content_length(value);
      break;
    case 17:
      if (iequals(name, "Transfer-Encoding")) return record_transfer_encoding(value, version_minor);
      break;
    default:
      break;
  }
  return StepResult::Ok;
}

StepResult HeadScanner::record_content_length(std::string_view value) {
  if (framing_.has_content_length) {
    return reject(400, "duplicate Content-Length header (rejected even when the values are equal)");
  }
  if (value.empty()) return reject(400, "empty Content-Length");
  uint64_t length = 0;
  for (char c : value) {
    if (!is_digit(static_cast<unsigned char>(c))) {
      return reject(400, "Content-Length must be decimal digits only (no sign, space or list)");
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (length > (kMaxContentLength - digit) / 10)
      return reject(400, "Content-Length too large (over 2^63-1)");
    length = length * 10 + digit;
  }
  framing_.has_content_length = true;
  framing_.content_length = length;
  return StepResult::Ok;
}

StepResult HeadScanner::record_transfer_encoding(std::string_view value, int version_minor) {
  if (version_minor == 0) {
    return reject(400, kind_ == MessageKind::Request ? "Transfer-Encoding in an HTTP/1.0 request"
                                                     : "Transfer-Encoding in an HTTP/1.0 response");
  }
  framing_.has_transfer_encoding = true;
  std::string_view problem;
  for_each_list_element(value, [&](std::string_view coding) {
    if (coding.empty()) {
      problem = "empty element in Transfer-Encoding";
    } else if (framing_.chunked_is_final) {
      problem = "chunked must be the final transfer coding and applied only once";
    } else if (!is_token(coding)) {
      problem = "invalid transfer coding (parameters are not accepted)";
    } else if (iequals(coding, "chunked")) {
      framing_.chunked_is_final = true;
    } else if (!is_known_transfer_coding(coding)) {
      problem = "unknown transfer coding";
    }
    return problem.empty();
  });
  if (!problem.empty()) return reject(400, problem);
  return StepResult::Ok;
}

StepResult HeadScanner::record_connection(std::string_view value) {
  std::string_view problem;
  for_each_list_element(value, [&](std::string_view option) {
    if (option.empty()) return true;
    if (!is_token(option)) {
      problem = "invalid Connection header (options must be tokens)";
      return false;
    }
    if (iequals(option, "close")) framing_.connection_close = true;
    if (iequals(option, "keep-alive")) framing_.connection_keep_alive = true;
    return true;
  });
  if (!problem.empty()) return reject(400, problem);
  return StepResult::Ok;
}

StepResult HeadScanner::record_expect(std::string_view value) {
  bool unsupported = false;
  for_each_list_element(value, [&](std::string_view expectation) {
    if (expectation.empty()) return true;
    if (!iequals(expectation, "100-continue")) {
      unsupported = true;
      return false;
    }
    framing_.expect_continue = true;
    return true;
  });
  if (unsupported) return reject(417, "unsupported Expect value (only 100-continue)");
  return StepResult::Ok;
}

StepResult HeadScanner::scan_origin_path(std::size_t line_end) {
  ++pos_;
  for (;;) {
    while (pos_ < line_end && is_target_char(at(pos_))) ++pos_;
    if (pos_ >= line_end) return start_line_out_of_input(pos_);
    if (data_[pos_] != '%') return StepResult::Ok;
    for (std::size_t i = 1; i <= 2; ++i) {
      if (pos_ + i >= line_end) return start_line_out_of_input(pos_ + i);
      if (!is_hex_digit(at(pos_ + i))) return reject(400, "'%' in request target not followed by two hex digits");
    }
    pos_ += 3;
  }
}

StepResult HeadScanner::scan_proxy_target(std::size_t line_end, RequestHead& out) {
  if (out.method != "CONNECT") {
    constexpr std::string_view kScheme = "http://";
    if (pos_ + kScheme.size() > line_end) return start_line_out_of_input(pos_ + kScheme.size());
    if (!iequals(std::string_view(data_ + pos_, kScheme.size()), kScheme)) {
      if (std::string_view(data_ + pos_, line_end - pos_).starts_with("https:"))
        return reject(400, "https in an absolute-form request target (use CONNECT for TLS through the proxy)");
      return reject(400, "request target must be origin-form or an absolute-form http:// URL");
    }
    pos_ += kScheme.size();
  }
  const std::size_t start = pos_;
  while (pos_ < line_end && data_[pos_] != ' ' && data_[pos_] != '/' && data_[pos_] != '?' &&
         data_[pos_] != '#' && data_[pos_] != '\r' && data_[pos_] != '\n')
    ++pos_;
  if (pos_ >= line_end) return start_line_out_of_input(pos_);
  const std::string_view text(data_ + start, pos_ - start);
  std::string_view why;
  const auto authority = parse_authority(text, why);
  if (!authority) return reject(400, why);
  if (out.method == "CONNECT") {
    if (authority->port == 0) return reject(400, "CONNECT target must be HOST:PORT (authority-form)");
    if (data_[pos_] != ' ') return reject(400, "CONNECT target must be HOST:PORT (authority-form)");
  } else if (data_[pos_] == '?') {
    return reject(400, "absolute-form request target has a query but no path");
  }
  out.authority = text;
  return StepResult::Ok;
}

StepResult HeadScanner::record_host(std::string_view value) {
  if (++framing_.host_count > 1) return reject(400, "more than one Host header");
  for (char c : value) {
    if (!is_host_char(static_cast<unsigned char>(c))) return reject(400, "invalid character in Host header");
  }
  return StepResult::Ok;
}

void reset(RequestHead& out) {
  out.method = {};
  out.target = {};
  out.authority = {};
  out.version_minor = 1;
  out.headers.clear();
  if (out.headers.capacity() < kReservedHeaders) out.headers.reserve(kReservedHeaders);
  out.framing = BodyFraming::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = false;
  out.head_size = 0;
}

void reset(ResponseHead& out) {
  out.status = 0;
  out.reason = {};
  out.version_minor = 1;
  out.headers.clear();
  if (out.headers.capacity() < kReservedHeaders) out.headers.reserve(kReservedHeaders);
  out.framing = BodyFraming::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.head_size = 0;
}

bool keep_alive_for(int version_minor, const FramingFields& fields) {
  if (fields.connection_close) return false;
  return version_minor == 1 || fields.connection_keep_alive;
}

}  // namespace

ParseStatus parse_request_head(std::string_view buffer, const ParseLimits& limits, RequestHead& out,
                               ParseError& error) {
  reset(out);
  HeadScanner scanner(MessageKind::Request, buffer, limits, error);
  StepResult result = scanner.scan_request_line(out);
  if (result == StepResult::Ok) result = scanner.scan_header_fields(out.headers, out.version_minor);
  if (result != StepResult::Ok) return scanner.finish(result);

  const FramingFields& fields = scanner.framing();
  if (out.version_minor == 1 && fields.host_count == 0) {
    scanner.reject(400, "missing Host header (required in HTTP/1.1)");
    return ParseStatus::Error;
  }
  if (!out.authority.empty()) {
    const auto host = out.find("host");
    if (host && !iequals(*host, out.authority)) {
      scanner.reject(400, "Host header disagrees with the request target's authority");
      return ParseStatus::Error;
    }
  }
  if (fields.has_transfer_encoding && fields.has_content_length) {
    scanner.reject(400, "Content-Length and Transfer-Encoding both present");
    return ParseStatus::Error;
  }
  if (fields.has_transfer_encoding) {
    if (!fields.chunked_is_final) {
      scanner.reject(400, "Transfer-Encoding of a request must end with chunked");
      return ParseStatus::Error;
    }
    out.framing = BodyFraming::Chunked;
  } else if (fields.has_content_length) {
    out.framing = BodyFraming::ContentLength;
    out.content_length = fields.content_length;
  }
  out.keep_alive = keep_alive_for(out.version_minor, fields);
  // RFC 9110 section 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
  out.expect_continue = fields.expect_continue && out.version_minor == 1;
  out.head_size = scanner.position();
  return ParseStatus::Complete;
}

ParseStatus parse_response_head(std::string_view buffer, std::string_view request_method,
                                const ParseLimits& limits, ResponseHead& out, ParseError& error) {
  reset(out);
  HeadScanner scanner(MessageKind::Response, buffer, limits, error);
  StepResult result = scanner.scan_status_line(out);
  if (result == StepResult::Ok) result = scanner.scan_header_fields(out.headers, out.version_minor);
  if (result != StepResult::Ok) return scanner.finish(result);

  const FramingFields& fields = scanner.framing();
  if (fields.has_transfer_encoding && fields.has_content_length) {
    scanner.reject(502, "Content-Length and Transfer-Encoding both present");
    return ParseStatus::Error;
  }
  const bool no_body = request_method == "HEAD" || out.status < 200 || out.status == 204 ||
                       out.status == 304 || (request_method == "CONNECT" && out.status < 300);
  if (no_body) {
    out.framing = BodyFraming::None;
  } else if (fields.has_transfer_encoding) {
    out.framing = fields.chunked_is_final ? BodyFraming::Chunked : BodyFraming::UntilClose;
  } else if (fields.has_content_length) {
    out.framing = BodyFraming::ContentLength;
    out.content_length = fields.content_length;
  } else {
    out.framing = BodyFraming::UntilClose;
  }
  out.keep_alive = out.framing != BodyFraming::UntilClose && keep_alive_for(out.version_minor, fields);
  out.head_size = scanner.position();
  return ParseStatus::Complete;
}

bool head_parse_worthwhile(std::string_view buffer, std::size_t previous_size, const ParseLimits& limits) {
  if (previous_size == 0 || previous_size > buffer.size()) return true;
  if (buffer.size() > limits.max_header_block) return true;
  // A request or status line longer than its limit must be reported early (414): while the first line is
  // still open and the buffer has grown past the limit, let the parser look (bounded by the line limit).
  if (buffer.size() > limits.max_request_line &&
      buffer.substr(0, limits.max_request_line + 2).find('\n') == std::string_view::npos) {
    return true;
  }
  const std::size_t resume = previous_size >= 3 ? previous_size - 3 : 0;
  return buffer.find("\r\n\r\n", resume) != std::string_view::npos;
}

}  // namespace tollway::http
