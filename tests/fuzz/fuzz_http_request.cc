// libFuzzer target for the HTTP/1.1 head parsers: checks invariants (views inside the input, framing
// consistent with the headers, verdicts independent of how the bytes arrive), not only absence of crashes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "http/authority.h"
#include "http/parser.h"

namespace {

using namespace tollway::http;

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

void check_headers(const std::vector<Header>& headers, std::string_view head, const ParseLimits& limits) {
  FUZZ_CHECK(headers.size() <= limits.max_headers);
  for (const Header& header : headers) {
    FUZZ_CHECK(!header.name.empty());
    FUZZ_CHECK(inside(header.name, head));
    FUZZ_CHECK(inside(header.value, head));
    FUZZ_CHECK(header.name.find_first_of(" \t:\r\n") == std::string_view::npos);
    FUZZ_CHECK(!has_line_break(header.value));
    FUZZ_CHECK(header.value.find('\0') == std::string_view::npos);
    if (!header.value.empty()) {
      FUZZ_CHECK(header.value.front() != ' ' && header.value.front() != '\t');
      FUZZ_CHECK(header.value.back() != ' ' && header.value.back() != '\t');
    }
  }
}

struct RequestVerdict {
  ParseStatus status;
  RequestHead head;
  ParseError error;
};

RequestVerdict parse_request(std::string_view bytes, const ParseLimits& limits) {
  RequestVerdict verdict;
  verdict.status = parse_request_head(bytes, limits, verdict.head, verdict.error);
  return verdict;
}

void check_request(std::string_view input, const ParseLimits& limits) {
  const RequestVerdict full = parse_request(input, limits);
  if (full.status == ParseStatus::Error) {
    const int s = full.error.status;
    FUZZ_CHECK(s == 400 || s == 414 || s == 417 || s == 431 || s == 505);
    FUZZ_CHECK(!full.error.message.empty());
  }
  if (full.status == ParseStatus::Incomplete) {
    FUZZ_CHECK(input.size() <= limits.max_header_block);
  }
  if (full.status == ParseStatus::Complete) {
    const RequestHead& h = full.head;
    FUZZ_CHECK(h.head_size >= 16 && h.head_size <= input.size());  // "M / HTTP/1.0\r\n\r\n" is the shortest
    FUZZ_CHECK(h.head_size <= limits.max_header_block);
    const std::string_view head = input.substr(0, h.head_size);
    FUZZ_CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
    FUZZ_CHECK(inside(h.method, head) && !h.method.empty());
    FUZZ_CHECK(!h.target.empty());
    if (h.authority.empty()) {
      FUZZ_CHECK(inside(h.target, head));
      FUZZ_CHECK(h.target[0] == '/' || (h.target == "*" && h.method == "OPTIONS"));
    } else {  // a forward proxy's absolute-form or CONNECT target
      FUZZ_CHECK(limits.proxy_forms && inside(h.authority, head));
      std::string_view why;
      FUZZ_CHECK(parse_authority(h.authority, why).has_value());
      if (h.method == "CONNECT") FUZZ_CHECK(h.target == h.authority);
      if (h.method != "CONNECT") FUZZ_CHECK(h.target[0] == '/' && (inside(h.target, head) || h.target == "/"));
      const auto host = h.find("Host");
      if (host) FUZZ_CHECK(host->size() == h.authority.size());
    }
    FUZZ_CHECK(h.target.find_first_of(" #\r\n") == std::string_view::npos);
    FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1);
    check_headers(h.headers, head, limits);
    const bool has_cl = h.find("Content-Length").has_value();
    const bool has_te = h.find("Transfer-Encoding").has_value();
    FUZZ_CHECK(!(has_cl && has_te));
    FUZZ_CHECK(h.framing != BodyFraming::UntilClose);
    FUZZ_CHECK((h.framing == BodyFraming::Chunked) == has_te);
    FUZZ_CHECK((h.framing == BodyFraming::ContentLength) == has_cl);
    if (h.framing != BodyFraming::ContentLength) FUZZ_CHECK(h.content_length == 0);
    FUZZ_CHECK(h.content_length <= static_cast<uint64_t>(INT64_MAX));
    if (h.version_minor == 0) FUZZ_CHECK(h.framing != BodyFraming::Chunked && !h.expect_continue);
    if (h.version_minor == 1) FUZZ_CHECK(h.find("Host").has_value());
    if (h.expect_continue) FUZZ_CHECK(h.find("Expect").has_value());

    // The exact head parses identically; every shorter prefix is Incomplete (checked at a few cuts).
    const RequestVerdict exact = parse_request(head, limits);
    FUZZ_CHECK(exact.status == ParseStatus::Complete && exact.head.head_size == h.head_size);
    FUZZ_CHECK(exact.head.headers.size() == h.headers.size() && exact.head.framing == h.framing);
    for (std::size_t cut : {std::size_t{0}, h.head_size / 2, h.head_size - 1, h.head_size - 2}) {
      FUZZ_CHECK(parse_request(input.substr(0, cut), limits).status == ParseStatus::Incomplete);
    }
  }

  // Any prefix is Incomplete or reaches the same verdict (a later byte never changes an earlier decision).
  for (std::size_t cut : {input.size() / 3, input.size() / 2, input.size() * 3 / 4}) {
    const RequestVerdict partial = parse_request(input.substr(0, cut), limits);
    if (partial.status == ParseStatus::Incomplete) continue;
    FUZZ_CHECK(partial.status == full.status);
    if (partial.status == ParseStatus::Error) {
      FUZZ_CHECK(partial.error.status == full.error.status && partial.error.message == full.error.message);
    } else {
      FUZZ_CHECK(partial.head.head_size == full.head.head_size);
    }
  }

  // head_parse_worthwhile never hides a completion: if it says "not worth it" after an Incomplete prefix,
  // the parser does not complete on the longer buffer either.
  for (std::size_t previous : {input.size() / 2, input.size() - (input.size() > 0 ? 1 : 0)}) {
    if (previous == 0) continue;
    if (parse_request(input.substr(0, previous), limits).status != ParseStatus::Incomplete) continue;
    if (!head_parse_worthwhile(input, previous, limits)) FUZZ_CHECK(full.status != ParseStatus::Complete);
  }

  // Reusing a head object gives the same answer as a fresh one.
  RequestHead reused;
  ParseError reused_error;
  (void)parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\nC: d\r\n\r\n", limits, reused, reused_error);
  const ParseStatus again = parse_request_head(input, limits, reused, reused_error);
  FUZZ_CHECK(again == full.status);
  if (again == ParseStatus::Complete) {
    FUZZ_CHECK(reused.head_size == full.head.head_size && reused.headers.size() == full.head.headers.size());
    FUZZ_CHECK(reused.keep_alive == full.head.keep_alive &&
               reused.content_length == full.head.content_length);
  }
}

void check_response(std::string_view input, std::string_view method, const ParseLimits& limits) {
  ResponseHead h;
  ParseError error;
  const ParseStatus status = parse_response_head(input, method, limits, h, error);
  if (status == ParseStatus::Error) FUZZ_CHECK(error.status == 502 && !error.message.empty());
  if (status != ParseStatus::Complete) return;
  FUZZ_CHECK(h.head_size <= input.size() && h.head_size <= limits.max_header_block);
  const std::string_view head = input.substr(0, h.head_size);
  FUZZ_CHECK(h.status >= 100 && h.status <= 599);
  FUZZ_CHECK(inside(h.reason, head) && !has_line_break(h.reason));
  check_headers(h.headers, head, limits);
  const bool no_body = method == "HEAD" || h.status < 200 || h.status == 204 || h.status == 304;
  if (no_body) FUZZ_CHECK(h.framing == BodyFraming::None);
  if (!no_body) FUZZ_CHECK(h.framing != BodyFraming::None);
  if (h.framing == BodyFraming::UntilClose) FUZZ_CHECK(!h.keep_alive);
  if (h.framing == BodyFraming::Chunked) FUZZ_CHECK(h.version_minor == 1);
  FUZZ_CHECK(!(h.find("Content-Length") && h.find("Transfer-Encoding")));
  for (std::size_t cut : {h.head_size / 2, h.head_size - 1}) {
    ResponseHead partial;
    FUZZ_CHECK(parse_response_head(input.substr(0, cut), method, limits, partial, error) ==
               ParseStatus::Incomplete);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ParseLimits defaults;
  check_request(input, defaults);
  ParseLimits small;  // exercise the limit paths with short inputs
  small.max_request_line = 40;
  small.max_header_block = 200;
  small.max_headers = 4;
  check_request(input, small);
  {
    // A head that fits the small limits parses the same under the defaults.
    RequestHead a, b;
    ParseError ea, eb;
    if (parse_request_head(input, small, a, ea) == ParseStatus::Complete) {
      FUZZ_CHECK(parse_request_head(input, defaults, b, eb) == ParseStatus::Complete);
      FUZZ_CHECK(a.head_size == b.head_size && a.framing == b.framing && a.keep_alive == b.keep_alive);
    }
  }
  ParseLimits proxy;  // a forward proxy's listener: absolute-form and CONNECT targets too
  proxy.proxy_forms = true;
  check_request(input, proxy);
  {
    // An origin-form head parses the same on a forward proxy's listener.
    RequestHead a, b;
    ParseError ea, eb;
    if (parse_request_head(input, defaults, a, ea) == ParseStatus::Complete && a.method != "CONNECT") {
      FUZZ_CHECK(parse_request_head(input, proxy, b, eb) == ParseStatus::Complete);
      FUZZ_CHECK(a.head_size == b.head_size && a.target == b.target && b.authority.empty());
    }
  }
  check_response(input, "GET", defaults);
  check_response(input, "HEAD", small);
  return 0;
}
