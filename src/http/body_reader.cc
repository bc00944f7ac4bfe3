#include "http/body_reader.h"

namespace tollway::http {

BodyReader::BodyReader(BodyFraming framing, uint64_t content_length, uint64_t max_body)
    : framing_(framing), max_body_(max_body) {
  if (framing == BodyFraming::None || (framing == BodyFraming::ContentLength && content_length == 0)) {
    state_ = State::Done;
  } else if (framing == BodyFraming::ContentLength) {
    remaining_ = content_length;
    if (content_length > max_body) fail(Failure::TooLarge, "body larger than the limit", 0);
  }
}

BodyReader::Step BodyReader::fail(Failure failure, std::string_view message, std::size_t consumed) {
  state_ = State::Failed;
  failure_ = failure;
  error_ = message;
  return Step{Status::Error, consumed, {}};
}

BodyReader::Step BodyReader::next(std::string_view input) {
  if (state_ == State::Done) return Step{Status::Done, 0, {}};
  if (state_ == State::Failed) return Step{Status::Error, 0, {}};
  switch (framing_) {
    case BodyFraming::ContentLength: {
      if (input.empty()) return Step{Status::NeedMore, 0, {}};
      const std::size_t take = remaining_ < input.size() ? static_cast<std::size_t>(remaining_) : input.size();
      remaining_ -= take;
      content_bytes_ += take;
      if (remaining_ == 0) state_ = State::Done;
      return Step{Status::Data, take, input.substr(0, take)};
    }
    case BodyFraming::Chunked: {
      const ChunkedDecoder::Step step = chunked_.next(input);
      switch (step.status) {
        case ChunkedDecoder::Status::Error:
          return fail(Failure::Malformed, chunked_.error(), step.consumed);
        case ChunkedDecoder::Status::Done:
          state_ = State::Done;
          return Step{Status::Done, step.consumed, {}};
        case ChunkedDecoder::Status::Data:
          content_bytes_ += step.data.size();
          break;
        case ChunkedDecoder::Status::NeedMore:
          break;
      }
      // A chunk size announces its data: a body over the limit is refused before the data arrives.
      // The failing step's data is not handed out nor counted as used, wherever the input was split.
      if (content_bytes_ > max_body_ || chunked_.pending_data() > max_body_ - content_bytes_)
        return fail(Failure::TooLarge, "body larger than the limit", step.consumed - step.data.size());
      if (step.status == ChunkedDecoder::Status::Data) return Step{Status::Data, step.consumed, step.data};
      return Step{Status::NeedMore, step.consumed, {}};
    }
    case BodyFraming::UntilClose: {
      if (input.empty()) return Step{Status::NeedMore, 0, {}};
      // Content up to the limit is handed out; a byte past it fails.
      if (content_bytes_ == max_body_) return fail(Failure::TooLarge, "body larger than the limit", 0);
      const uint64_t room = max_body_ - content_bytes_;
      const std::size_t take = room < input.size() ? static_cast<std::size_t>(room) : input.size();
      content_bytes_ += take;
      return Step{Status::Data, take, input.substr(0, take)};
    }
    case BodyFraming::None:
      break;
  }
  state_ = State::Done;
  return Step{Status::Done, 0, {}};
}

BodyReader::Step BodyReader::end_of_input() {
  if (state_ == State::Failed) return Step{Status::Error, 0, {}};
  if (state_ == State::Done || framing_ == BodyFraming::UntilClose) {
    state_ = State::Done;
    return Step{Status::Done, 0, {}};
  }
  return fail(Failure::Truncated,
              framing_ == BodyFraming::Chunked ? "connection closed inside a chunked body"
                                               : "connection closed before Content-Length bytes arrived",
              0);
}

}  // namespace tollway::http
