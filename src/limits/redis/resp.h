// RESP2, the Redis wire protocol: the encoder for commands (arrays of bulk strings) and a strict incremental
// reply parser that accepts bytes in any split (one byte at a time is fine) and never buffers a reply twice.
// Strict: every line ends in CRLF, no bare CR or LF inside a line, integers without '+', leading zeros or "-0",
// lengths within configured bounds, bounded nesting. It never allocates beyond those bounds and never guesses:
// malformed input is an error, after which the parser stays failed (the connection must be dropped).
// Pure (no I/O); fuzzed by tests/fuzz/fuzz_limits_resp.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollway::limits::redis {

enum class RespType { SimpleString, Error, Integer, BulkString, Array, Null };

struct RespValue {
  RespType type = RespType::Null;
  std::string text;                 // SimpleString, Error, BulkString
  int64_t integer = 0;              // Integer
  std::vector<RespValue> elements;  // Array

  bool is_error() const { return type == RespType::Error; }
  friend bool operator==(const RespValue&, const RespValue&) = default;
};

// Appends one command, `*N\r\n` followed by N bulk strings, to `out`.
void append_command(std::string& out, std::span<const std::string_view> args);
void append_command(std::string& out, std::initializer_list<std::string_view> args);

struct RespLimits {
  int64_t max_bulk_bytes = 64 * 1024 * 1024;  // a bulk string longer than this is an error
  int64_t max_array_elements = 1024 * 1024;   // per array
  std::size_t max_line_bytes = 64 * 1024;     // simple strings, errors, integer and length lines
  std::size_t max_depth = 16;                 // nested arrays
};

class RespParser {
 public:
  enum class Status { NeedMore, Reply, Failed };

  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from the front of `input` until one whole reply is complete (Reply: it is in `reply`, the
  // rest of `input` is left for the next call), the input is used up (NeedMore), or the bytes are malformed
  // (Failed: error() says why; every later call fails too).
  Status parse(std::string_view& input, RespValue& reply);
  const std::string& error() const { return error_; }

 private:
  Status fail(std::string message);
  // A value is complete: attach it to the open array, or hand it out when no array is open.
  bool complete(RespValue value, RespValue& reply);
  Status on_line(RespValue& reply, bool& done);

  struct OpenArray {
    RespValue array;
    int64_t remaining = 0;
  };
  RespLimits limits_;
  std::vector<OpenArray> open_;
  std::string line_;        // the current header line so far, without CRLF
  bool in_bulk_ = false;    // reading a bulk string's payload
  int64_t bulk_left_ = 0;   // payload bytes + CRLF still to read
  std::string bulk_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace tollway::limits::redis
