// Incremental decoder and encoder for the chunked transfer coding (RFC 9112 section 7.1). The decoder hands
// out views of chunk data inside the caller's buffer (no copy) and rejects every malformed size, extension or
// terminator; it never guesses where a chunk ends.
// Accepted: chunk-size = 1*16HEXDIG (leading zeros allowed); extensions `;name[=token|quoted-string]` with
// BWS around ';' and '=' (validated, then ignored); CRLF after the size line and after the data; trailer
// fields with the head parser's field rules (validated, then discarded: the proxy never forwards trailers).
// Rejected: "0x", signs, '_', whitespace not followed by ';', an empty size, 17+ digits, bare CR or LF,
// obs-fold or CTL in trailers, a size line longer than max_line, a trailer section larger than max_trailer.
// The decoder is a byte-level state machine: it works for input split at any byte and buffers nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::http {

class ChunkedDecoder {
 public:
  enum class Status {
    Data,      // `data` holds chunk bytes (possibly a part of a chunk); call again with the rest of the input
    NeedMore,  // all input consumed; feed more bytes
    Done,      // last chunk and trailer section consumed; bytes after `consumed` belong to the next message
    Error,     // malformed; see error()
  };

  struct Step {
    Status status;
    std::size_t consumed;   // bytes of the input this call consumed (framing and data); on Error, the bytes
                            // before the offending one; on Done, up to and including the final CRLF
    std::string_view data;  // for Status::Data: a view into the input
  };

  explicit ChunkedDecoder(std::size_t max_line = 4096, std::size_t max_trailer = 16 * 1024)
      : max_line_(max_line), max_trailer_(max_trailer) {}

  // Consumes bytes from `input` up to the end of the next run of chunk data (or framing).
  Step next(std::string_view input);

  std::string_view error() const { return error_; }
  bool done() const { return state_ == State::Done; }
  // Bytes of the current chunk's data still to come (0 outside chunk data): lets a caller enforce a body
  // limit as soon as a chunk size is announced, without waiting for the data.
  uint64_t pending_data() const { return state_ == State::Data ? remaining_ : 0; }

 private:
  enum class State {
    SizeStart,         // first hex digit of a chunk size
    SizeDigits,        // more hex digits, ';', BWS or CR
    SizeWhitespace,    // BWS after the size or an extension value: only ';' may follow
    ExtBeforeName,     // after ';': BWS then the extension name
    ExtName,           // extension name token
    ExtAfterName,      // BWS after the name: '=' or ';'
    ExtBeforeValue,    // after '=': BWS then token or quoted-string
    ExtTokenValue,     // token value
    ExtQuotedValue,    // inside a quoted-string
    ExtQuotedPair,     // after a backslash inside a quoted-string
    ExtAfterQuoted,    // after the closing quote
    SizeLineLf,        // CR seen at the end of the size line
    Data,              // remaining_ bytes of chunk data
    DataCr,            // CR after chunk data
    DataLf,            // LF after chunk data
    TrailerLineStart,  // a trailer field line or the final CRLF
    TrailerName,       // trailer field name token
    TrailerValue,      // trailer field value
    TrailerLineLf,     // CR seen at the end of a trailer field line
    TrailerEndLf,      // CR seen on the empty line that ends the message
    Done,
    Failed,
  };
  // Consumes one framing byte; false (and state Failed) when the byte is not allowed here.
  bool advance_framing(unsigned char c);
  bool fail(std::string_view message);

  State state_ = State::SizeStart;
  uint64_t remaining_ = 0;
  std::size_t size_digits_ = 0;
  std::size_t max_line_;
  std::size_t max_trailer_;
  std::size_t line_bytes_ = 0;     // bytes of the current size or trailer line (bounded by max_line_)
  std::size_t trailer_bytes_ = 0;  // bytes of the trailer section so far (bounded by max_trailer_)
  std::string_view error_;
};

// Appends "<hex size>\r\n" + data + "\r\n" for a non-empty chunk.
void append_chunk(std::string& out, std::string_view data);
// The last chunk with an empty trailer section.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace tollway::http
