// BodyReader: where an HTTP/1.1 message body ends and which bytes are its content, for every reader of bodies
// in tollway (request bodies downstream and on the admin port, provider responses, the HTTP client). Given the
// framing a parsed head announced, it is fed the bytes that follow the head as they arrive and hands out views
// of the body's content: Content-Length counted exactly, chunked decoded strictly by ChunkedDecoder
// (extensions and trailers validated, then dropped), close-delimited ended by end_of_input(). A body larger
// than the limit is refused as soon as its size is known (a Content-Length, a chunk size). It does no I/O,
// never copies and never buffers: a step's data is a view into the caller's input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "http/chunked.h"
#include "http/message.h"

namespace tollway::http {

class BodyReader {
 public:
  static constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

  enum class Status {
    Data,      // `data` holds body content (a view into the input); call again with the rest of the input
    NeedMore,  // all input consumed; feed more bytes (or end_of_input() when the peer closed)
    Done,      // the body is complete; input bytes after `consumed` belong to the next message
    Error,     // malformed, too large or cut short; see failure() and error()
  };
  enum class Failure {
    None,
    Malformed,  // a chunked framing error
    TooLarge,   // the body is larger than max_body
    Truncated,  // the peer closed before the body ended
  };

  struct Step {
    Status status;
    std::size_t consumed;   // bytes of the input this call used (framing and data)
    std::string_view data;  // for Status::Data
  };

  BodyReader(BodyFraming framing, uint64_t content_length, uint64_t max_body = kNoLimit);
  BodyReader(const RequestHead& head, uint64_t max_body = kNoLimit)
      : BodyReader(head.framing, head.content_length, max_body) {}
  BodyReader(const ResponseHead& head, uint64_t max_body = kNoLimit)
      : BodyReader(head.framing, head.content_length, max_body) {}

  // Consumes bytes of `input` up to the end of the next run of body content (or framing).
  Step next(std::string_view input);
  // The peer closed the connection: Done when the close ends the body (close-delimited, or already complete),
  // Error (Truncated) otherwise.
  Step end_of_input();

  bool done() const { return state_ == State::Done; }
  BodyFraming framing() const { return framing_; }
  // Content-Length bodies: content bytes still to come.
  uint64_t remaining() const { return remaining_; }
  // Content bytes handed out so far.
  uint64_t content_bytes() const { return content_bytes_; }
  Failure failure() const { return failure_; }
  // What failed, a static sentence ("" when nothing did).
  std::string_view error() const { return error_; }

 private:
  enum class State { Reading, Done, Failed };
  Step fail(Failure failure, std::string_view message, std::size_t consumed);

  BodyFraming framing_;
  State state_ = State::Reading;
  uint64_t remaining_ = 0;
  uint64_t max_body_;
  uint64_t content_bytes_ = 0;
  ChunkedDecoder chunked_;
  Failure failure_ = Failure::None;
  std::string_view error_;
};

}  // namespace tollway::http
