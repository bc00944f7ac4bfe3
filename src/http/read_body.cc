#include "http/read_body.h"

namespace tollway::http {
namespace {

using Outcome = BodyReadResult::Outcome;

Outcome failure_outcome(const BodyReader& reader) {
  switch (reader.failure()) {
    case BodyReader::Failure::TooLarge:
      return Outcome::TooLarge;
    case BodyReader::Failure::Malformed:
      return Outcome::Malformed;
    default:
      return Outcome::Closed;
  }
}

// Feeds `input` to the reader, appending content to `body`; the number of bytes used.
std::size_t feed(BodyReader& reader, std::string_view input, std::string& body, BodyReader::Status& last) {
  std::size_t used = 0;
  while (true) {
    const BodyReader::Step step = reader.next(input.substr(used));
    used += step.consumed;
    last = step.status;
    if (step.status != BodyReader::Status::Data) return used;
    body.append(step.data);
  }
}

}  // namespace

asio::awaitable<BodyReadResult> read_body(Stream& stream, BodyReader& reader, std::string_view buffered,
                                          std::string& body, std::string& leftover) {
  BodyReadResult result;
  BodyReader::Status last;
  result.used_from_buffered = feed(reader, buffered, body, last);
  if (last == BodyReader::Status::Done) co_return result;
  if (last == BodyReader::Status::Error) {
    result.outcome = failure_outcome(reader);
    co_return result;
  }
  if (reader.framing() == BodyFraming::ContentLength) {
    // Straight into the body, never past its end: nothing of the next message is read here.
    while (!reader.done()) {
      const std::size_t old = body.size();
      const std::size_t wanted = static_cast<std::size_t>(reader.remaining());
      body.resize(old + wanted);
      const std::size_t n = co_await stream.read_some(asio::buffer(body.data() + old, wanted), result.ec);
      body.resize(old + n);
      if (result.ec) {
        if (result.ec == asio::error::eof) reader.end_of_input();
        result.outcome = Outcome::Closed;
        co_return result;
      }
      reader.next(std::string_view(body.data() + old, n));  // counts the bytes already in place
    }
    co_return result;
  }
  std::string scratch(16 * 1024, '\0');
  while (true) {
    const std::size_t n = co_await stream.read_some(asio::buffer(scratch.data(), scratch.size()), result.ec);
    if (result.ec) {
      if (result.ec == asio::error::eof && reader.end_of_input().status == BodyReader::Status::Done) {
        result.ec = {};
        co_return result;
      }
      result.outcome = Outcome::Closed;
      co_return result;
    }
    const std::string_view input(scratch.data(), n);
    const std::size_t used = feed(reader, input, body, last);
    if (last == BodyReader::Status::Done) {
      leftover.assign(input.substr(used));
      co_return result;
    }
    if (last == BodyReader::Status::Error) {
      result.outcome = failure_outcome(reader);
      co_return result;
    }
  }
}

}  // namespace tollway::http
