// read_body: reads a whole message body from a stream through a BodyReader, for the readers that want the body
// in one string (request bodies, held provider errors, the HTTP client's responses). Bytes that already
// arrived with the head are passed in and never moved, so heads parsed from the caller's buffer stay valid; it
// reads only from the stream, never past a Content-Length body, and hands back what it read past the end of
// any other body (the start of the next message). It sets no timeout: the caller's deadline cancels the
// stream.
#pragma once

#include <string>
#include <string_view>

#include "http/body_reader.h"
#include "http/stream.h"

namespace tollway::http {

struct BodyReadResult {
  enum class Outcome {
    Complete,   // the whole body is in `body`
    Malformed,  // reader.error() says why
    TooLarge,   // over the reader's limit
    Closed,     // the stream failed or the peer closed before the body ended (`ec`; operation_aborted when the
                // caller's deadline cancelled it)
  };
  Outcome outcome = Outcome::Complete;
  std::size_t used_from_buffered = 0;  // bytes of `buffered` that belonged to the body
  error_code ec;
};

// Appends the body's content to `body`. `buffered` holds the bytes received after the head; bytes read from the
// stream past the body's end go to `leftover`.
asio::awaitable<BodyReadResult> read_body(Stream& stream, BodyReader& reader, std::string_view buffered,
                                          std::string& body, std::string& leftover);

}  // namespace tollway::http
