// libFuzzer target: differential request framing against nginx. Each input, followed by a fixed last request, is
// one client byte stream. tollway frames it with the parser and body reader its connections use (heads, then
// bodies, request after request, until an error, the end of the bytes or a `Connection: close`); a real nginx
// reads the same bytes on a connection (NginxOracle). A finding, which aborts with both readings printed:
//  - a request both accepted but with another method, target or head length (the two disagree where it starts
//    or ends: a smuggling shape);
//  - nginx accepting requests after the point where tollway stopped without refusing anything;
//  - tollway accepting a request nginx refused, unless nginx's reason is one of the kKnownRefusals below, each of
//    which concerns a byte that does not move a request boundary.
// tollway refusing what nginx accepts is tollway's documented strictness (src/http/parser.h) and is only counted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/body_reader.h"
#include "http/parser.h"
#include "nginx_oracle.h"

namespace {

using namespace tollway::http;
using tollway::fuzz::NginxOracle;
using tollway::fuzz::NginxReading;
using tollway::fuzz::NginxRequest;

// Appended to every input: a body framed too long or too short on either side shows in whether this request is
// read, and where.
constexpr std::string_view kLastRequest = "GET /last HTTP/1.1\r\nHost: last\r\n\r\n";

// nginx refusals of requests tollway accepts that do not concern framing, with why.
struct KnownRefusal {
  std::string_view reason;  // a substring of nginx's error-log message
  std::string_view why;
};
constexpr KnownRefusal kKnownRefusals[] = {
    // RFC 9110 9.1: a method is any token. nginx takes upper-case letters, '_' and '-' only; the method does not
    // change where the request ends (tollway frames GET and "get" alike, by Content-Length/Transfer-Encoding).
    {"client sent invalid method", "method charset"},
    // nginx refuses TRACE (405) as a policy; tollway's routes decide what a method may do.
    {"client sent TRACE method", "TRACE refused by policy"},
    // nginx checks the Host value beyond its syntax (e.g. dots, "..", a port range); it is not a framing field.
    {"client sent invalid host header", "Host value"},
    // RFC 9112 6.1 allows codings before the final chunked; nginx implements chunked alone and answers 501. The
    // body is still chunked for both (tollway refuses every coding it does not know, and chunked not last).
    {"client sent unknown \"Transfer-Encoding\"", "transfer codings before chunked"},
    // nginx normalises the path and refuses one that climbs above the root ("/.."); tollway forwards the
    // origin-form target as sent. The target's bytes, not its framing, differ.
    {"client sent invalid request", "path normalisation"},
    // nginx allows one line each of Host, Content-Length, Transfer-Encoding and Expect. tollway refuses a second
    // Host or Content-Length too, and reads several Transfer-Encoding or Expect lines as one list (RFC 9110 5.3):
    // the lines decide the same framing as their joined value would.
    {"client sent duplicate header line", "one line per framing header"},
    // nginx skips only spaces before a field value; a tab there (OWS, RFC 9110 5.6.3) makes "Content-Length:\t5"
    // invalid to nginx, 5 to tollway. nginx refuses: it reads no other length (another length would show as a
    // request framed differently).
    {"client sent invalid \"Content-Length\" header", "a tab before the Content-Length value"},
};

struct TollwayRequest {
  std::string method;
  std::string target;
  std::size_t head_bytes = 0;  // without the empty lines skipped before it (nginx's $request_length omits them)
  bool keep_alive = true;
  // A Connection value holding "close" (HTTP/1.1) or "keep-alive" (HTTP/1.0) inside another token: nginx finds
  // these words anywhere in the value, tollway takes whole tokens only (RFC 9110 7.6.1).
  bool connection_word_in_other_token = false;
};

enum class TollwayEnd { Drained, HeadIncomplete, HeadRefused, BodyRefused, BodyTruncated, ConnectionClose };

struct TollwayReading {
  std::vector<TollwayRequest> requests;  // requests read whole (head and body)
  TollwayEnd end = TollwayEnd::Drained;
  std::string reason;                    // the parser's or body reader's message when it refused
  // The request whose body was refused or cut by the end of the stream (BodyRefused, BodyTruncated).
  std::optional<TollwayRequest> unfinished;
};

const char* end_name(TollwayEnd end) {
  switch (end) {
    case TollwayEnd::Drained: return "all bytes read";
    case TollwayEnd::HeadIncomplete: return "head incomplete at the end";
    case TollwayEnd::HeadRefused: return "head refused";
    case TollwayEnd::BodyRefused: return "body refused";
    case TollwayEnd::BodyTruncated: return "body cut by the end";
    case TollwayEnd::ConnectionClose: return "connection: close";
  }
  return "?";
}

bool contains_ignoring_case(std::string_view text, std::string_view word) {
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (iequals(text.substr(i, word.size()), word)) return true;
  }
  return false;
}

bool connection_word_in_other_token(const RequestHead& head) {
  const std::string_view word = head.version_minor == 1 ? "close" : "keep-alive";
  const bool closes_by_word = head.version_minor == 1;  // the word's effect in nginx
  for (const Header& header : head.headers) {
    if (iequals(header.name, "connection") && contains_ignoring_case(header.value, word)) {
      return head.keep_alive == closes_by_word;  // tollway did not take the word as nginx does
    }
  }
  return false;
}

// What DownstreamConnection does with a client's bytes: parse a head (default limits, a reverse proxy's
// listener), read its body with BodyReader, go on with the bytes after it while the connection is kept alive.
TollwayReading frame_with_tollway(std::string_view stream) {
  TollwayReading reading;
  const ParseLimits limits;
  RequestHead head;
  ParseError error;
  std::size_t offset = 0;
  for (;;) {
    const std::string_view rest = stream.substr(offset);
    if (rest.empty()) return reading;
    const ParseStatus status = parse_request_head(rest, limits, head, error);
    if (status == ParseStatus::Incomplete) {
      reading.end = TollwayEnd::HeadIncomplete;
      return reading;
    }
    if (status == ParseStatus::Error) {
      reading.end = TollwayEnd::HeadRefused;
      reading.reason = std::string(error.message);
      return reading;
    }
    std::size_t empty_lines = 0;
    while (rest.substr(empty_lines, 2) == "\r\n") empty_lines += 2;
    // The head's views point into `stream`; the request line's parts are kept by value.
    TollwayRequest request{std::string(head.method), std::string(head.target), head.head_size - empty_lines,
                           head.keep_alive, connection_word_in_other_token(head)};
    BodyReader body(head);
    std::size_t used = head.head_size;
    bool complete = head.framing == BodyFraming::None;
    while (!complete) {
      BodyReader::Step step = body.next(rest.substr(used));
      used += step.consumed;
      if (step.status == BodyReader::Status::NeedMore) step = body.end_of_input();
      if (step.status == BodyReader::Status::Done) complete = true;
      if (step.status == BodyReader::Status::Error) {
        reading.end = body.failure() == BodyReader::Failure::Truncated ? TollwayEnd::BodyTruncated
                                                                        : TollwayEnd::BodyRefused;
        reading.reason = std::string(body.error());
        reading.unfinished = std::move(request);
        return reading;
      }
    }
    reading.requests.push_back(std::move(request));
    offset += used;
    if (!head.keep_alive) {
      reading.end = TollwayEnd::ConnectionClose;
      return reading;
    }
  }
}

// The requests nginx answered 200, up to the first it refused. nginx answers before it reads (and discards) a
// body, so a 200 does not say whether the body was whole.
std::vector<NginxRequest> nginx_accepted(const NginxReading& reading) {
  std::vector<NginxRequest> accepted;
  for (const NginxRequest& request : reading.requests) {
    if (request.status != 200) break;
    accepted.push_back(request);
  }
  return accepted;
}

bool same_request(const TollwayRequest& a, const NginxRequest& b) {
  return a.method == b.method && a.target == b.target && a.head_bytes == b.head_bytes;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (const unsigned char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

[[noreturn]] void finding(std::string_view what, std::string_view stream, const TollwayReading& ours,
                          const NginxReading& theirs) {
  std::fprintf(stderr, "FINDING: %.*s\nstream: %s\n", static_cast<int>(what.size()), what.data(),
               printable(stream).c_str());
  std::fprintf(stderr, "tollway: %zu request(s), then %s%s%s\n", ours.requests.size(), end_name(ours.end),
               ours.reason.empty() ? "" : ": ", ours.reason.c_str());
  for (const TollwayRequest& r : ours.requests) {
    std::fprintf(stderr, "  %s %s (head %zu bytes)\n", printable(r.method).c_str(), printable(r.target).c_str(),
                 r.head_bytes);
  }
  if (ours.unfinished) {
    std::fprintf(stderr, "  unfinished: %s %s (head %zu bytes)\n", printable(ours.unfinished->method).c_str(),
                 printable(ours.unfinished->target).c_str(), ours.unfinished->head_bytes);
  }
  std::fprintf(stderr, "nginx: %zu request(s)%s\n", theirs.requests.size(), theirs.closed ? "" : ", did not close");
  for (const NginxRequest& r : theirs.requests) {
    std::fprintf(stderr, "  %d %s %s (head %zu bytes)\n", r.status, r.method.c_str(), r.target.c_str(),
                 r.head_bytes);
  }
  for (const std::string& reason : theirs.reasons) std::fprintf(stderr, "  nginx says: %s\n", reason.c_str());
  std::abort();
}

// Counts of the differences that are not findings, printed when the fuzzer exits.
std::map<std::string, uint64_t>& differences() {
  static auto* counts = new std::map<std::string, uint64_t>;  // never destroyed: read by the atexit handler
  return *counts;
}

void print_differences() {
  for (const auto& [what, count] : differences()) std::fprintf(stderr, "difference: %s: %llu\n", what.c_str(),
                                                                static_cast<unsigned long long>(count));
}

const KnownRefusal* known_refusal(const NginxReading& reading) {
  for (const std::string& reason : reading.reasons) {
    for (const KnownRefusal& known : kKnownRefusals) {
      if (reason.find(known.reason) != std::string::npos) return &known;
    }
  }
  return nullptr;
}

// The index of the first request whose Connection value nginx reads otherwise than tollway (requests.size() when
// none does); both read the requests up to it alike, and it, once accepted, is where they part.
std::size_t first_connection_disagreement(const TollwayReading& reading) {
  for (std::size_t i = 0; i < reading.requests.size(); ++i) {
    if (reading.requests[i].connection_word_in_other_token) return i;
  }
  return reading.requests.size();
}

NginxOracle* oracle = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static NginxOracle nginx;
  oracle = &nginx;
  std::atexit(print_differences);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string stream(reinterpret_cast<const char*>(data), size);
  stream += kLastRequest;
  const TollwayReading ours = frame_with_tollway(stream);
  NginxReading theirs = oracle->read(stream, 5000);
  // nginx runs at the fuzzer's niceness: on a loaded machine it may not get the CPU in time. A hang is a finding
  // only when a second try, given a minute, hangs too.
  if (!theirs.closed) theirs = oracle->read(stream, 60000);
  if (!theirs.closed) finding("nginx did not close the connection after the stream ended", stream, ours, theirs);
  std::vector<NginxRequest> accepted = nginx_accepted(theirs);
  // The request whose body tollway found malformed or cut: nginx's 200 for it, if it is nginx's last, says
  // nothing about the body; its head must still be read alike.
  if (ours.unfinished && accepted.size() == ours.requests.size() + 1) {
    if (!same_request(*ours.unfinished, accepted.back())) {
      finding("the request with an unfinished body is framed differently", stream, ours, theirs);
    }
    accepted.pop_back();
  }

  const std::size_t common = std::min(ours.requests.size(), accepted.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (!same_request(ours.requests[i], accepted[i])) {
      finding("a request both accepted is framed differently", stream, ours, theirs);
    }
  }
  // nginx took a Connection word inside another token and so kept or closed the connection where tollway did the
  // opposite: the requests they both read must agree, and what follows is read by one of them only.
  const std::size_t both_kept = first_connection_disagreement(ours);
  if (both_kept < ours.requests.size() && accepted.size() >= both_kept + 1) {
    ++differences()["a Connection word inside another token (nginx matches words anywhere in the value)"];
    return 0;
  }
  if (accepted.size() > ours.requests.size()) {
    if (ours.end != TollwayEnd::HeadRefused && ours.end != TollwayEnd::BodyRefused) {
      finding("nginx read requests after tollway stopped without refusing", stream, ours, theirs);
    }
    ++differences()[std::string("tollway refused, nginx accepted: ") + ours.reason];
  } else if (ours.requests.size() > accepted.size()) {
    const KnownRefusal* known = known_refusal(theirs);
    if (known == nullptr) finding("tollway accepted a request nginx refused", stream, ours, theirs);
    ++differences()[std::string("nginx refused, tollway accepted: ") + std::string(known->why)];
  }
  return 0;
}
