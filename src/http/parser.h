// Strict HTTP/1.1 head parsers (RFC 9110/9112). They decide message framing and reject everything a smuggling
// attack or a lenient peer could exploit; they never allocate per byte, never copy header bytes and never
// accept an ambiguous message.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace tollway::http {

struct ParseLimits {
  std::size_t max_request_line = 8 * 1024;   // longer request line -> 414
  std::size_t max_header_block = 64 * 1024;  // longer head (request line included) -> 431
  std::size_t max_headers = 128;             // more header fields -> 431
};

enum class ParseStatus {
  Complete,    // head parsed; out.head_size bytes were consumed
  Incomplete,  // need more bytes (and none of the limits is exceeded yet)
  Error,       // reject; see ParseError
};

struct ParseError {
  int status = 400;          // 400, 414, 431 or 501 (for requests); 502 is the caller's mapping for responses
  std::string_view message;  // static text a person can act on, e.g. "Content-Length and Transfer-Encoding both present"
};

// Parses a request head at the start of `buffer`. Leading CRLFs before the request line are skipped
// (RFC 9112 section 2.2) and counted in head_size. On Incomplete, call again with more bytes appended.
ParseStatus parse_request_head(std::string_view buffer, const ParseLimits& limits, RequestHead& out,
                               ParseError& error);

// Parses a response head. `request_method` decides whether a body can follow (HEAD) and `status`-based rules
// (1xx, 204, 304) apply. Same strictness as requests for framing headers.
ParseStatus parse_response_head(std::string_view buffer, std::string_view request_method,
                                const ParseLimits& limits, ResponseHead& out, ParseError& error);

}  // namespace tollway::http
