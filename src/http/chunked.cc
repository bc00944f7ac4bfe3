#include "http/chunked.h"

#include "http/char_class.h"

namespace tollway::http {

namespace {

constexpr std::size_t kMaxSizeDigits = 16;  // 16 hex digits fill a uint64_t; more would overflow

bool is_whitespace(unsigned char c) {
  return c == ' ' || c == '\t';
}

uint64_t hex_value(unsigned char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

}  // namespace

bool ChunkedDecoder::fail(std::string_view message) {
  state_ = State::Failed;
  error_ = message;
  return false;
}

bool ChunkedDecoder::advance_framing(unsigned char c) {
  const bool in_size_line = state_ <= State::SizeLineLf;
  const bool in_trailer = state_ >= State::TrailerLineStart && state_ <= State::TrailerEndLf;
  if (in_size_line || in_trailer) {
    if (++line_bytes_ > max_line_ + 2) {  // + CRLF
      return fail(in_trailer ? "chunked trailer line too long" : "chunk size line too long");
    }
  }
  if (in_trailer && ++trailer_bytes_ > max_trailer_) return fail("chunked trailer section too large");

  switch (state_) {
    case State::SizeStart:
      if (!is_hex_digit(c)) return fail("chunk size must start with a hex digit");
      remaining_ = hex_value(c);
      size_digits_ = 1;
      state_ = State::SizeDigits;
      return true;
    case State::SizeDigits:
      if (is_hex_digit(c)) {
        if (++size_digits_ > kMaxSizeDigits) return fail("chunk size has more than 16 hex digits");
        remaining_ = (remaining_ << 4) | hex_value(c);
        return true;
      }
      if (c == '\r') {
        state_ = State::SizeLineLf;
      } else if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (is_whitespace(c)) {
        state_ = State::SizeWhitespace;
      } else {
        return fail("invalid character in chunk size");
      }
      return true;
    case State::SizeWhitespace:
      if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (!is_whitespace(c)) {
        return fail("whitespace in chunk size line not followed by ';'");
      }
      return true;
    case State::ExtBeforeName:
      if (is_tchar(c)) {
        state_ = State::ExtName;
      } else if (!is_whitespace(c)) {
        return fail("chunk extension without a name");
      }
      return true;
    case State::ExtName:
      if (is_tchar(c)) return true;
      if (c == '=') {
        state_ = State::ExtBeforeValue;
      } else if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (c == '\r') {
        state_ = State::SizeLineLf;
      } else if (is_whitespace(c)) {
        state_ = State::ExtAfterName;
      } else {
        return fail("invalid character in chunk extension name");
      }
      return true;
    case State::ExtAfterName:
      if (c == '=') {
        state_ = State::ExtBeforeValue;
      } else if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (!is_whitespace(c)) {
        return fail("whitespace after chunk extension name not followed by '=' or ';'");
      }
      return true;
    case State::ExtBeforeValue:
      if (is_tchar(c)) {
        state_ = State::ExtTokenValue;
      } else if (c == '"') {
        state_ = State::ExtQuotedValue;
      } else if (!is_whitespace(c)) {
        return fail("chunk extension value must be a token or a quoted string");
      }
      return true;
    case State::ExtTokenValue:
      if (is_tchar(c)) return true;
      if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (c == '\r') {
        state_ = State::SizeLineLf;
      } else if (is_whitespace(c)) {
        state_ = State::SizeWhitespace;
      } else {
        return fail("invalid character in chunk extension value");
      }
      return true;
    case State::ExtQuotedValue:
      if (c == '"') {
        state_ = State::ExtAfterQuoted;
      } else if (c == '\\') {
        state_ = State::ExtQuotedPair;
      } else if (!is_quoted_text(c)) {
        return fail("invalid character in quoted chunk extension value");
      }
      return true;
    case State::ExtQuotedPair:
      if (!is_field_value_char(c)) return fail("invalid escaped character in quoted chunk extension value");
      state_ = State::ExtQuotedValue;
      return true;
    case State::ExtAfterQuoted:
      if (c == ';') {
        state_ = State::ExtBeforeName;
      } else if (c == '\r') {
        state_ = State::SizeLineLf;
      } else if (is_whitespace(c)) {
        state_ = State::SizeWhitespace;
      } else {
        return fail("invalid character after quoted chunk extension value");
      }
      return true;
    case State::SizeLineLf:
      if (c != '\n') return fail("chunk size line must end with CRLF");
      line_bytes_ = 0;
      state_ = remaining_ == 0 ? State::TrailerLineStart : State::Data;
      return true;
    case State::DataCr:
      if (c != '\r') return fail("chunk data must be followed by CRLF");
      state_ = State::DataLf;
      return true;
    case State::DataLf:
      if (c != '\n') return fail("chunk data must be followed by CRLF");
      state_ = State::SizeStart;
      return true;
    case State::TrailerLineStart:
      if (c == '\r') {
        state_ = State::TrailerEndLf;
      } else if (is_tchar(c)) {
        state_ = State::TrailerName;
      } else if (is_whitespace(c)) {
        return fail("obsolete line folding in chunked trailer section");
      } else if (c == '\n') {
        return fail("bare LF in chunked trailer section (CRLF required)");
      } else {
        return fail("invalid character in trailer field name");
      }
      return true;
    case State::TrailerName:
      if (is_tchar(c)) return true;
      if (c == ':') {
        state_ = State::TrailerValue;
      } else if (is_whitespace(c)) {
        return fail("whitespace between trailer field name and colon");
      } else {
        return fail("invalid character in trailer field name");
      }
      return true;
    case State::TrailerValue:
      if (is_field_value_char(c)) return true;
      if (c != '\r') {
        if (c == '\n') return fail("bare LF in chunked trailer section (CRLF required)");
        return fail("control character in trailer field value");
      }
      state_ = State::TrailerLineLf;
      return true;
    case State::TrailerLineLf:
      if (c != '\n') return fail("bare CR in chunked trailer section");
      line_bytes_ = 0;
      state_ = State::TrailerLineStart;
      return true;
    case State::TrailerEndLf:
      if (c != '\n') return fail("bare CR in chunked trailer section");
      state_ = State::Done;
      return true;
    case State::Data:
    case State::Done:
    case State::Failed:
      break;
  }
  return fail("chunked decoder internal state error");
}

ChunkedDecoder::Step ChunkedDecoder::next(std::string_view input) {
  std::size_t offset = 0;
  for (;;) {
    if (state_ == State::Done) return Step{Status::Done, offset, {}};
    if (state_ == State::Failed) return Step{Status::Error, offset, {}};
    if (offset == input.size()) return Step{Status::NeedMore, offset, {}};
    if (state_ == State::Data) {
      const std::size_t available = input.size() - offset;
      const std::size_t take = remaining_ < available ? static_cast<std::size_t>(remaining_) : available;
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::DataCr;
      return Step{Status::Data, offset + take, input.substr(offset, take)};
    }
    if (!advance_framing(static_cast<unsigned char>(input[offset]))) return Step{Status::Error, offset, {}};
    ++offset;
  }
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // an empty chunk would be the last chunk
  char hex[16];
  std::size_t digits = 0;
  uint64_t size = data.size();
  do {
    hex[sizeof(hex) - 1 - digits] = "0123456789abcdef"[size & 0xf];
    ++digits;
    size >>= 4;
  } while (size != 0);
  out.append(hex + sizeof(hex) - digits, digits);
  out.append("\r\n", 2);
  out.append(data);
  out.append("\r\n", 2);
}

}  // namespace tollway::http
