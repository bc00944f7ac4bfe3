// Strict HTTP/1.1 head parsers (RFC 9110/9112). They decide message framing and reject everything a smuggling
// attack or a lenient peer could exploit; they never allocate per byte, never copy header bytes and never
// accept an ambiguous message.
//
// Decisions where the RFCs leave a choice (all rejections are 400 unless noted):
//  - Line terminators: CRLF only. A bare LF or a bare CR anywhere in the head is rejected.
//  - Methods: any token (RFC 9110 9.1), case-sensitive: "get" is accepted as its own, unknown method and
//    the proxy decides; non-token bytes are rejected.
//  - Targets: origin-form ("/" path ["?" query]) with RFC 3986 characters only, "%" followed by two hex
//    digits; asterisk-form "*" only for OPTIONS. Absolute-form and authority-form are rejected, and CONNECT
//    with any target: tollway is a reverse proxy (a forward proxy's listener takes them, see proxy_forms). CTL, SP, "#", non-ASCII and the characters RFC 3986 excludes (", <, >, \,
//    ^, `, {, |, }) are rejected.
//  - Versions: exactly "HTTP/1.1" or "HTTP/1.0"; another well-formed "HTTP/d.d" gets 505, anything else 400.
//  - Exactly one SP between request-line parts; no trailing whitespace.
//  - Header fields: token name immediately followed by ":"; empty names, whitespace before ":", obs-fold
//    and CTL bytes (HTAB allowed in values) are rejected; obs-text (bytes >= 0x80) is allowed in values.
//  - Content-Length: 1*DIGIT (leading zeros allowed), at most 2^63-1. Signs, inner spaces, lists and a
//    second Content-Length header (even with an equal value) are rejected.
//  - Transfer-Encoding: a list of gzip, deflate, compress, x-gzip, x-compress and chunked (case-insensitive,
//    possibly over several header lines); chunked must appear once and last. Unknown codings ("identity"
//    included), empty elements and coding parameters are rejected. TE in an HTTP/1.0 message is rejected.
//    Content-Length together with Transfer-Encoding is rejected.
//  - Host: required in HTTP/1.1, at most one, only uri-host[:port] characters (no userinfo, no spaces).
//  - Expect: "100-continue" (case-insensitive) sets expect_continue (ignored in HTTP/1.0); any other
//    expectation is rejected with 417.
//  - Connection: options must be tokens; "close" wins over "keep-alive".
//  - Limits: request line longer than max_request_line -> 414; head longer than max_header_block (leading
//    empty lines included) or more than max_headers fields -> 431. Both are reported as soon as the buffer
//    holds more than the limit, without waiting for the end of the line or head.
//  - Responses: the same field rules; every error has status 502. A missing reason phrase ("HTTP/1.1 200")
//    is accepted. 1xx, 204, 304, 2xx to CONNECT and responses to HEAD have no body; a final coding other
//    than chunked, or no length at all, means UntilClose (and keep_alive false).
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace tollway::http {

struct ParseLimits {
  std::size_t max_request_line = 8 * 1024;   // longer request line -> 414
  std::size_t max_header_block = 64 * 1024;  // longer head (request line included) -> 431
  std::size_t max_headers = 128;             // more header fields -> 431
  // A forward proxy's listener: also accepts absolute-form `http://HOST[:PORT]/path` targets and CONNECT's
  // authority-form `HOST:PORT` (RFC 9112 sections 3.2.2 and 3.2.3). Otherwise only origin-form (and `*` for
  // OPTIONS) is accepted.
  bool proxy_forms = false;
};

enum class ParseStatus {
  Complete,    // head parsed; out.head_size bytes were consumed
  Incomplete,  // need more bytes (and none of the limits is exceeded yet)
  Error,       // reject; see ParseError
};

struct ParseError {
  int status = 400;  // requests: 400, 414, 417, 431 or 505; responses: always 502
  std::string_view
      message;  // static text a person can act on, e.g. "Content-Length and Transfer-Encoding both present"
};

// Parses a request head at the start of `buffer`. Leading CRLFs before the request line are skipped
// (RFC 9112 section 2.2) and counted in head_size. On Incomplete, call again with more bytes appended.
// `out` is meaningful only on Complete (its headers vector keeps its capacity across calls).
ParseStatus parse_request_head(std::string_view buffer, const ParseLimits& limits, RequestHead& out,
                               ParseError& error);

// Parses a response head. `request_method` decides whether a body can follow (HEAD) and `status`-based rules
// (1xx, 204, 304) apply. Same strictness as requests for framing headers.
ParseStatus parse_response_head(std::string_view buffer, std::string_view request_method,
                                const ParseLimits& limits, ResponseHead& out, ParseError& error);

// Cheap pre-check for a connection that re-parses its buffer after every read: false when the bytes that
// arrived since the last Incomplete (the buffer had `previous_size` bytes then) cannot change that answer
// except by completing the head, i.e. no "\r\n\r\n" ended in them and no limit can have been crossed.
// Calling the parser only when this is true keeps the work linear in the head size even when a peer sends
// one byte per packet. (Malformed heads are then reported at their end or at a limit, never accepted.)
bool head_parse_worthwhile(std::string_view buffer, std::size_t previous_size, const ParseLimits& limits);

}  // namespace tollway::http
